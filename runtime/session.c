/* Sessions: a model, its scratch arena, a thread pool (its own, or one
 * shared with other sessions) and the caller's bound buffers.
 *
 * A session holds a reference on its model, so releasing the model first is
 * safe.  The arena is allocated once (aligned to max(64, arena_align)) and
 * zeroed, which also faults its pages in before the first run.  Binding
 * checks the byte size (and, in the checked forms, dtype, rank and each
 * dim) against the descriptor; run refuses to start until every input and
 * output is bound and names the ones that are not, and while an output's
 * buffer overlaps an input's or another output's (checked at the first
 * run after a bind, not at bind time: rebinding swapped buffers one by one
 * passes through overlapping states).  A session is used by one
 * thread at a time; many sessions may run the same model at once.
 *
 * Profiling (ABI 2 models): while enabled, exec.on_call points at a hook
 * that reads the monotonic clock at each call's begin and end and appends
 * an event.  Room for a whole run's events is reserved before the run, so
 * the hook never allocates; without profiling exec.on_call is NULL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pool.h"

/* A bound buffer as an address range, for the overlap check. */
typedef struct span {
  uintptr_t begin, end;
  int32_t index;
  bool output;
} span_t;

struct mlcrt_session {
  const mlcrt_model_t *model;
  void *arena;
  mlcrt_pool_t *pool;
  mlc_abi_exec_t exec;
  void **inputs;  /* num_inputs, then num_outputs entries */
  void **outputs;
  bool *bound;    /* num_inputs + num_outputs flags */
  span_t *spans;  /* num_inputs + num_outputs: room for the overlap check */
  bool disjoint;  /* the bound outputs were found not to overlap anything */
  /* Profiling: events[0..nevents) recorded, cap allocated. */
  mlcrt_profile_event_t *events;
  size_t nevents, cap;
  int64_t call_start; /* of the call in progress */
};

static mlcrt_status_t *alloc_arena(mlcrt_session_t *s) {
  const mlc_abi_model_t *d = s->model->desc;
  size_t align = d->arena_align > 64 ? (size_t)d->arena_align : 64;
  uint64_t bytes = d->arena_bytes ? d->arena_bytes : 1;
  uint64_t rounded = (bytes + align - 1) & ~((uint64_t)align - 1);
  if (rounded < bytes || rounded > SIZE_MAX ||
      posix_memalign(&s->arena, align, (size_t)rounded) != 0) {
    s->arena = NULL;
    return mlcrt_status_make(MLCRT_OUT_OF_MEMORY,
                             "allocating an arena of %llu bytes",
                             (unsigned long long)d->arena_bytes);
  }
  memset(s->arena, 0, (size_t)rounded);
  return NULL;
}

static mlcrt_status_t *alloc_bindings(mlcrt_session_t *s) {
  const mlc_abi_model_t *d = s->model->desc;
  size_t n = (size_t)d->num_inputs + (size_t)d->num_outputs;
  s->inputs = calloc(n ? n : 1, sizeof *s->inputs);
  s->bound = calloc(n ? n : 1, sizeof *s->bound);
  s->spans = calloc(n ? n : 1, sizeof *s->spans);
  if (!s->inputs || !s->bound || !s->spans) return mlcrt_status_oom();
  s->outputs = s->inputs + d->num_inputs;
  return NULL;
}

/* The arena, the binding tables and the pool: `pool` (retained) when
 * given, else a new one of `threads`. */
static mlcrt_status_t *session_init(mlcrt_session_t *s, int32_t threads,
                                    mlcrt_pool_t *pool) {
  mlcrt_status_t *st = alloc_arena(s);
  if (!st) st = alloc_bindings(s);
  if (st) return st;
  if (pool) {
    mlcrt_pool_retain(pool);
    s->pool = pool;
  } else if ((st = mlcrt_pool_create(threads, &s->pool))) {
    return st;
  }
  s->exec.pool = s->pool;
  /* Always a real hook: with one thread it runs the range inline. */
  s->exec.parallel_for = mlcrt_pool_parallel_for;
  return NULL;
}

static mlcrt_status_t *create(const mlcrt_model_t *model, int32_t threads,
                              mlcrt_pool_t *pool,
                              mlcrt_session_t **out_session) {
  mlcrt_session_t *s = calloc(1, sizeof *s);
  if (!s) return mlcrt_status_oom();
  mlcrt_model_retain(model);
  s->model = model;
  mlcrt_status_t *st = session_init(s, threads, pool);
  if (st) {
    mlcrt_session_release(s);
    return mlcrt_status_annotate(st, "creating a session for model '%s'",
                                 mlcrt_model_name(model));
  }
  *out_session = s;
  return NULL;
}

mlcrt_status_t *mlcrt_session_create(const mlcrt_model_t *model,
                                     const mlcrt_session_options_t *options,
                                     mlcrt_session_t **out_session) {
  if (!out_session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_create: out_session is NULL");
  *out_session = NULL;
  if (!model)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_create: model is NULL");
  int32_t threads = options ? options->num_threads : 0;
  if (threads < 0 || threads > MLCRT_MAX_THREADS)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_create: num_threads %d is not in "
                             "[0, %d]",
                             threads, MLCRT_MAX_THREADS);
  return create(model, threads, NULL, out_session);
}

mlcrt_status_t *mlcrt_session_create_with_pool(const mlcrt_model_t *model,
                                               mlcrt_pool_t *pool,
                                               mlcrt_session_t **out_session) {
  if (!out_session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_create_with_pool: out_session is "
                             "NULL");
  *out_session = NULL;
  if (!model || !pool)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_create_with_pool: %s is NULL",
                             model ? "pool" : "model");
  return create(model, 0, pool, out_session);
}

void mlcrt_session_release(mlcrt_session_t *session) {
  if (!session) return;
  mlcrt_pool_release(session->pool);
  free(session->arena);
  free(session->inputs);
  free(session->bound);
  free(session->spans);
  free(session->events);
  mlcrt_model_release((mlcrt_model_t *)session->model);
  free(session);
}

/* ---- binding ------------------------------------------------------------ */

typedef struct bind_req {
  mlcrt_session_t *session;
  int32_t index;
  void *data;
  size_t nbytes;
  bool output;
  bool checked;
  int32_t dtype;
  int32_t rank;
  const int64_t *dims;
} bind_req_t;

static const char *kind(const bind_req_t *r) {
  return r->output ? "output" : "input";
}

/* The tensor a request names, or a status saying why there is none. */
static mlcrt_status_t *bind_target(const bind_req_t *r,
                                   const mlc_abi_tensor_t **out) {
  const char *fn = r->output ? "mlcrt_session_bind_output"
                             : "mlcrt_session_bind_input";
  if (!r->session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT, "%s: session is NULL",
                             fn);
  const mlc_abi_model_t *d = r->session->model->desc;
  int32_t n = r->output ? d->num_outputs : d->num_inputs;
  if (r->index < 0 || r->index >= n)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s: %s index %d out of range (model '%s' has %d)",
                             fn, kind(r), r->index,
                             mlcrt_model_name(r->session->model), n);
  *out = r->output ? &d->outputs[r->index] : &d->inputs[r->index];
  return NULL;
}

static mlcrt_status_t *check_shape(const bind_req_t *r,
                                   const mlc_abi_tensor_t *t,
                                   const char *shape) {
  if (r->dtype != t->dtype)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s %d '%s': dtype %s (%d) bound, expected %s",
                             kind(r), r->index, t->name,
                             mlcrt_dtype_name(r->dtype), r->dtype, shape);
  if (r->rank != t->rank)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s %d '%s': rank %d bound, expected %d (%s)",
                             kind(r), r->index, t->name, r->rank, t->rank,
                             shape);
  if (r->rank > 0 && !r->dims)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s %d '%s': dims is NULL for rank %d", kind(r),
                             r->index, t->name, r->rank);
  for (int32_t i = 0; i < r->rank; i++) {
    if (r->dims[i] == t->dims[i]) continue;
    const char *sym = t->dim_names ? t->dim_names[i] : NULL;
    return mlcrt_status_make(
        MLCRT_INVALID_ARGUMENT, "%s %d '%s': dim %d%s%s%s is %lld, expected %lld (%s)",
        kind(r), r->index, t->name, i, sym ? " ('" : "", sym ? sym : "",
        sym ? "')" : "", (long long)r->dims[i], (long long)t->dims[i], shape);
  }
  return NULL;
}

static mlcrt_status_t *bind(const bind_req_t *r) {
  const mlc_abi_tensor_t *t = NULL;
  mlcrt_status_t *st = bind_target(r, &t);
  if (st) return st;
  char shape[256];
  mlcrt_tensor_describe(t, shape, sizeof shape);
  if (!r->data && r->nbytes > 0)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s %d '%s': data is NULL", kind(r), r->index,
                             t->name);
  if (r->checked && (st = check_shape(r, t, shape))) return st;
  if (r->nbytes != t->nbytes)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s %d '%s': %zu bytes bound, expected %llu (%s)",
                             kind(r), r->index, t->name, r->nbytes,
                             (unsigned long long)t->nbytes, shape);
  mlcrt_session_t *s = r->session;
  void **slots = r->output ? s->outputs : s->inputs;
  slots[r->index] = r->data;
  s->bound[(r->output ? s->model->desc->num_inputs : 0) + r->index] = true;
  s->disjoint = false;
  return NULL;
}

mlcrt_status_t *mlcrt_session_bind_input(mlcrt_session_t *session,
                                         int32_t index, const void *data,
                                         size_t nbytes) {
  bind_req_t r = {session, index, (void *)data, nbytes, false, false, 0, 0,
                  NULL};
  return bind(&r);
}

mlcrt_status_t *mlcrt_session_bind_output(mlcrt_session_t *session,
                                          int32_t index, void *data,
                                          size_t nbytes) {
  bind_req_t r = {session, index, data, nbytes, true, false, 0, 0, NULL};
  return bind(&r);
}

mlcrt_status_t *mlcrt_session_bind_input_checked(
    mlcrt_session_t *session, int32_t index, const void *data, size_t nbytes,
    int32_t dtype, int32_t rank, const int64_t *dims) {
  bind_req_t r = {session, index, (void *)data, nbytes, false, true,
                  dtype,   rank,  dims};
  return bind(&r);
}

mlcrt_status_t *mlcrt_session_bind_output_checked(
    mlcrt_session_t *session, int32_t index, void *data, size_t nbytes,
    int32_t dtype, int32_t rank, const int64_t *dims) {
  bind_req_t r = {session, index, data, nbytes, true, true, dtype, rank, dims};
  return bind(&r);
}

mlcrt_status_t *mlcrt_session_bind_input_by_name(mlcrt_session_t *session,
                                                 const char *name,
                                                 const void *data,
                                                 size_t nbytes) {
  if (!session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_bind_input_by_name: session is NULL");
  int32_t index;
  mlcrt_status_t *st = mlcrt_model_find_input(session->model, name, &index);
  return st ? st : mlcrt_session_bind_input(session, index, data, nbytes);
}

mlcrt_status_t *mlcrt_session_bind_output_by_name(mlcrt_session_t *session,
                                                  const char *name, void *data,
                                                  size_t nbytes) {
  if (!session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_bind_output_by_name: session is "
                             "NULL");
  int32_t index;
  mlcrt_status_t *st = mlcrt_model_find_output(session->model, name, &index);
  return st ? st : mlcrt_session_bind_output(session, index, data, nbytes);
}

/* ---- running ------------------------------------------------------------ */

/* Lists every unbound tensor: "input 1 'b', output 0 'sum'". */
static mlcrt_status_t *check_bound(const mlcrt_session_t *s) {
  const mlc_abi_model_t *d = s->model->desc;
  int32_t n = d->num_inputs + d->num_outputs;
  char list[512] = "";
  size_t used = 0;
  int32_t missing = 0;
  for (int32_t i = 0; i < n; i++) {
    if (s->bound[i]) continue;
    bool out = i >= d->num_inputs;
    int32_t idx = out ? i - d->num_inputs : i;
    const char *name = out ? d->outputs[idx].name : d->inputs[idx].name;
    if (used < sizeof list)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s %d '%s'",
                               missing ? ", " : "", out ? "output" : "input",
                               idx, name);
    missing++;
  }
  if (!missing) return NULL;
  return mlcrt_status_make(MLCRT_FAILED_PRECONDITION,
                           "%d tensor%s not bound: %s", missing,
                           missing == 1 ? "" : "s", list);
}

/* Outputs are written while inputs (and earlier outputs) are still read,
 * so an output that shares a byte with any other bound buffer gives wrong
 * results; inputs may share memory with each other.  Sorting the ranges by
 * start, one sweep finds a conflict: the earlier range reaching furthest
 * overlaps the current one if any earlier range does. */
static int span_cmp(const void *a, const void *b) {
  const span_t *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

static mlcrt_status_t *overlap_error(const mlcrt_session_t *s,
                                     const span_t *a, const span_t *b) {
  const mlc_abi_model_t *d = s->model->desc;
  if (!a->output) { /* name the output first */
    const span_t *t = a;
    a = b;
    b = t;
  }
  const char *an = d->outputs[a->index].name;
  const char *bn = b->output ? d->outputs[b->index].name : d->inputs[b->index].name;
  return mlcrt_status_make(
      MLCRT_INVALID_ARGUMENT,
      "output %d '%s' overlaps %s %d '%s'%s: an output's buffer must not "
      "share memory with an input or another output (the model writes "
      "outputs while it still reads inputs)",
      a->index, an, b->output ? "output" : "input", b->index, bn,
      a->begin == b->begin && a->end == b->end ? " (the same buffer)" : "");
}

static mlcrt_status_t *check_overlap(mlcrt_session_t *s) {
  const mlc_abi_model_t *d = s->model->desc;
  size_t n = 0;
  for (int32_t k = 0; k < d->num_inputs + d->num_outputs; k++) {
    bool out = k >= d->num_inputs;
    int32_t i = out ? k - d->num_inputs : k;
    const void *p = out ? s->outputs[i] : s->inputs[i];
    uint64_t len = out ? d->outputs[i].nbytes : d->inputs[i].nbytes;
    if (!p || !len) continue;
    uintptr_t b = (uintptr_t)p, e = b + (uintptr_t)len;
    s->spans[n++] = (span_t){b, e < b ? UINTPTR_MAX : e, i, out};
  }
  qsort(s->spans, n, sizeof *s->spans, span_cmp);
  const span_t *far_any = NULL, *far_out = NULL;
  for (size_t k = 0; k < n; k++) {
    const span_t *c = &s->spans[k];
    const span_t *hit = c->output ? far_any : far_out;
    if (hit && c->begin < hit->end) return overlap_error(s, hit, c);
    if (!far_any || c->end > far_any->end) far_any = c;
    if (c->output && (!far_out || c->end > far_out->end)) far_out = c;
  }
  return NULL;
}

/* ---- profiling ------------------------------------------------------------ */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* exec.on_call: the end time is read before anything else is done. */
static void on_call(void *ctx, int32_t call, int32_t phase) {
  int64_t t = now_ns();
  mlcrt_session_t *s = ctx;
  if (phase == MLC_ABI_CALL_BEGIN) {
    s->call_start = t;
    return;
  }
  if (s->nevents == s->cap) return; /* cannot happen: reserved per run */
  s->events[s->nevents++] = (mlcrt_profile_event_t){call, 0, s->call_start, t};
}

/* Room for one run's events (one per call), grown geometrically. */
static mlcrt_status_t *reserve_events(mlcrt_session_t *s) {
  size_t need = s->nevents + (size_t)s->model->num_calls;
  if (need <= s->cap) return NULL;
  size_t cap = s->cap ? s->cap : 256;
  while (cap < need) cap *= 2;
  mlcrt_profile_event_t *e = realloc(s->events, cap * sizeof *e);
  if (!e)
    return mlcrt_status_make(MLCRT_OUT_OF_MEMORY,
                             "room for %zu profile events", cap);
  s->events = e;
  s->cap = cap;
  return NULL;
}

mlcrt_status_t *mlcrt_session_set_profiling(mlcrt_session_t *session,
                                            int enabled) {
  if (!session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_set_profiling: session is NULL");
  const mlcrt_model_t *m = session->model;
  if (enabled && m->desc->abi_version < 2)
    return mlcrt_status_make(MLCRT_FAILED_PRECONDITION,
                             "model '%s' has ABI version %u, which has no "
                             "profiling hook; recompile it with this mlc",
                             mlcrt_model_name(m), m->desc->abi_version);
  session->exec.on_call = enabled ? on_call : NULL;
  session->exec.hook_ctx = enabled ? session : NULL;
  return NULL;
}

mlcrt_status_t *mlcrt_session_profile_events(
    const mlcrt_session_t *session, const mlcrt_profile_event_t **out_events,
    size_t *out_count) {
  if (!session || !out_events || !out_count)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_profile_events: %s is NULL",
                             !session ? "session"
                             : !out_events ? "out_events" : "out_count");
  *out_events = session->events;
  *out_count = session->nevents;
  return NULL;
}

void mlcrt_session_profile_clear(mlcrt_session_t *session) {
  if (session) session->nevents = 0;
}

mlcrt_status_t *mlcrt_session_run(mlcrt_session_t *session) {
  if (!session)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_session_run: session is NULL");
  const mlcrt_model_t *m = session->model;
  mlcrt_status_t *st = check_bound(session);
  if (!st && !session->disjoint && !(st = check_overlap(session)))
    session->disjoint = true; /* until the next bind */
  if (st) return mlcrt_status_annotate(st, "running model '%s'",
                                       mlcrt_model_name(m));
  if (session->exec.on_call && (st = reserve_events(session)))
    return mlcrt_status_annotate(st, "running model '%s' with profiling",
                                 mlcrt_model_name(m));
  int32_t rc = m->desc->run(&session->exec, m->weights, session->arena,
                            session->inputs, session->outputs);
  if (rc != 0)
    return mlcrt_status_make(MLCRT_INTERNAL,
                             "running model '%s': its run function returned %d",
                             mlcrt_model_name(m), rc);
  return NULL;
}
