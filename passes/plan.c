/* Static memory planning: decides where every value's bytes live.
 *
 *   graph input i            -> INPUT i
 *   graph output j           -> OUTPUT j
 *   constant used by a node  -> WEIGHT, 64-byte aligned offsets in order of
 *                               first use (node order)
 *   MLC_VALUE_FUSED values   -> NONE (they live in a kernel's registers)
 *   view op outputs          -> the storage of the viewed value (chains of
 *                               views followed), unless the view's output is
 *                               a graph output (OUTPUT; the lowering copies)
 *   everything else          -> ARENA at an offset
 *
 * Arena offsets come from liveness over the node order: each node is one
 * step, except that the contiguous nodes of one fusion group share a step.
 * A value is live from its producer's step to the last step that reads it
 * or any view of it.  At each step the values it defines are placed first
 * (best fit among freed ranges, else at the end of the arena), then the
 * values whose last use is this step are freed; so an output never shares
 * bytes with an input of the same step.  Sizes and offsets are 64-byte
 * aligned; 0-byte tensors get offset 0 and take no space.  Every sum is
 * checked: weights or live values that together pass INT64_MAX bytes are
 * an error naming the value that no longer fits.
 *
 * Requires each graph output to have its own producer (run
 * materialize-outputs first) and static shapes for every stored value. */
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

#define ALIGN 64

typedef struct range {
  int64_t off, size;
} range_t;

typedef struct planner {
  mlc_graph_t *g;
  mlc_value_t **root; /* by id: the value a view aliases, or NULL */
  int64_t *last;      /* by id: last step, for arena candidates */
  unsigned char *cand; /* by id: needs arena space */
  MLC_VEC(mlc_value_t *) order; /* arena candidates in definition order */
  MLC_VEC(range_t) free_list;   /* sorted by offset, coalesced */
  int64_t high;
} planner_t;

/* x rounded up to ALIGN; -1 when that does not fit int64. */
static int64_t align_up(int64_t x) {
  if (x < 0 || x > INT64_MAX - (ALIGN - 1)) return -1;
  return (x + ALIGN - 1) / ALIGN * ALIGN;
}

/* *acc += n, false (and *acc unchanged) when the sum leaves int64. */
static bool add_checked(int64_t *acc, int64_t n) {
  if (n < 0 || *acc > INT64_MAX - n) return false;
  *acc += n;
  return true;
}

static mlc_value_t *root_of(planner_t *p, mlc_value_t *v) {
  return p->root[v->id] ? p->root[v->id] : v;
}

/* ---- inputs, outputs, weights ---- */

static mlc_status_t *plan_io(planner_t *p) {
  mlc_graph_t *g = p->g;
  for (size_t i = 0; i < g->values.len; i++)
    g->values.data[i]->storage = (mlc_storage_t){0};
  for (size_t i = 0; i < g->inputs.len; i++)
    g->inputs.data[i]->storage = (mlc_storage_t){MLC_STORAGE_INPUT, (int32_t)i, 0};
  for (size_t j = 0; j < g->outputs.len; j++) {
    mlc_value_t *v = g->outputs.data[j];
    if (v->storage.kind != MLC_STORAGE_NONE || mlc_value_is_const(v) ||
        !v->producer)
      return MLC_ERR(INTERNAL,
                     "plan-memory: graph output %zu '%s' has no producer of "
                     "its own (is it an input, a constant or a repeated "
                     "output?); run materialize-outputs first",
                     j, v->name);
    v->storage = (mlc_storage_t){MLC_STORAGE_OUTPUT, (int32_t)j, 0};
  }
  return NULL;
}

static mlc_status_t *plan_weights(planner_t *p) {
  mlc_graph_t *g = p->g;
  int64_t off = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    for (int k = 0; k < n->ninputs && !n->dead; k++) {
      mlc_value_t *v = n->inputs[k];
      if (!v || !mlc_value_is_const(v) || v->storage.kind != MLC_STORAGE_NONE)
        continue;
      int64_t nb = mlc_value_nbytes(v);
      if (nb < 0)
        return MLC_ERR(UNSUPPORTED, "plan-memory: constant '%s' (%s) has no "
                       "static byte size", v->name, mlc_dtype_name(v->dtype));
      v->storage = (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, off};
      if (!add_checked(&off, align_up(nb)))
        return MLC_ERR(UNSUPPORTED, "plan-memory: the weights do not fit in "
                       "int64 bytes (at constant '%s', %lld bytes, offset "
                       "%lld)", v->name, (long long)nb, (long long)off);
    }
  }
  g->weights_bytes = off;
  return NULL;
}

/* ---- liveness ---- */

/* A view's output aliases its input unless it is a graph output, fused, or
 * the input has no storage and will get none (a fused value). */
static bool aliases(planner_t *p, const mlc_node_t *n, mlc_value_t *out) {
  if (!(mlc_op_info(n->op)->flags & MLC_OPF_VIEW) || n->ninputs < 1 ||
      !n->inputs[0] || out->producer_output != 0)
    return false;
  mlc_value_t *r = root_of(p, n->inputs[0]);
  return r->storage.kind != MLC_STORAGE_NONE || p->cand[r->id];
}

static mlc_status_t *classify_outputs(planner_t *p, mlc_node_t *n, int64_t step) {
  for (int k = 0; k < n->noutputs; k++) {
    mlc_value_t *v = n->outputs[k];
    if (!v || v->storage.kind != MLC_STORAGE_NONE || (v->flags & MLC_VALUE_FUSED))
      continue;
    if (aliases(p, n, v)) {
      p->root[v->id] = root_of(p, n->inputs[0]);
      continue;
    }
    if (mlc_value_nbytes(v) < 0)
      return MLC_ERR(UNSUPPORTED,
                     "plan-memory: value '%s' (%s) of %s has no static byte "
                     "size; shapes must be inferred and dims bound first",
                     v->name, mlc_dtype_name(v->dtype), mlc_node_describe(p->g, n));
    if (align_up(mlc_value_nbytes(v)) < 0)
      return MLC_ERR(UNSUPPORTED, "plan-memory: value '%s' of %s: %lld bytes "
                     "do not fit in int64 once aligned", v->name,
                     mlc_node_describe(p->g, n), (long long)mlc_value_nbytes(v));
    p->cand[v->id] = 1;
    p->last[v->id] = step;
    v->storage.offset = step; /* definition step until allocation */
    if (!MLC_VEC_PUSH(&p->order, v)) return MLC_ERR(OUT_OF_MEMORY, "plan-memory");
  }
  return NULL;
}

static mlc_status_t *liveness(planner_t *p) {
  mlc_graph_t *g = p->g;
  int64_t step = -1;
  int prev_group = -1;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    if (n->group < 0 || n->group != prev_group) step++;
    prev_group = n->group;
    for (int k = 0; k < n->ninputs; k++) {
      if (!n->inputs[k]) continue;
      mlc_value_t *r = root_of(p, n->inputs[k]);
      if (p->cand[r->id] && p->last[r->id] < step) p->last[r->id] = step;
    }
    MLC_RETURN_IF(classify_outputs(p, n, step));
  }
  return NULL;
}

/* ---- allocation ---- */

/* Best fit among the free ranges, else the end of the arena (growing a
 * free range that ends there).  false when the arena would pass INT64_MAX
 * bytes; nothing is changed then. */
static bool take(planner_t *p, int64_t size, int64_t *out_off) {
  size_t best = p->free_list.len;
  for (size_t i = 0; i < p->free_list.len; i++) {
    range_t r = p->free_list.data[i];
    if (r.size >= size && (best == p->free_list.len ||
                           r.size < p->free_list.data[best].size))
      best = i;
  }
  if (best == p->free_list.len && p->free_list.len &&
      p->free_list.data[p->free_list.len - 1].off +
              p->free_list.data[p->free_list.len - 1].size == p->high) {
    best = p->free_list.len - 1; /* grow the arena's last free range */
    if (!add_checked(&p->high, size - p->free_list.data[best].size))
      return false;
    p->free_list.data[best].size = size;
  }
  if (best == p->free_list.len) {
    *out_off = p->high;
    return add_checked(&p->high, size);
  }
  range_t *r = &p->free_list.data[best];
  *out_off = r->off;
  r->off += size;
  r->size -= size;
  if (r->size == 0) {
    memmove(r, r + 1, (p->free_list.len - best - 1) * sizeof *r);
    p->free_list.len--;
  }
  return true;
}

static bool give_back(planner_t *p, int64_t off, int64_t size) {
  if (size == 0) return true;
  size_t i = 0;
  while (i < p->free_list.len && p->free_list.data[i].off < off) i++;
  if (!MLC_VEC_PUSH(&p->free_list, ((range_t){0, 0}))) return false;
  range_t *d = p->free_list.data;
  memmove(d + i + 1, d + i, (p->free_list.len - 1 - i) * sizeof *d);
  d[i] = (range_t){off, size};
  if (i + 1 < p->free_list.len && d[i].off + d[i].size == d[i + 1].off) {
    d[i].size += d[i + 1].size;
    memmove(d + i + 1, d + i + 2, (p->free_list.len - i - 2) * sizeof *d);
    p->free_list.len--;
  }
  if (i > 0 && d[i - 1].off + d[i - 1].size == d[i].off) {
    d[i - 1].size += d[i].size;
    memmove(d + i, d + i + 1, (p->free_list.len - i - 1) * sizeof *d);
    p->free_list.len--;
  }
  return true;
}

static mlc_status_t *allocate(planner_t *p) {
  size_t n = p->order.len, next = 0;
  mlc_value_t **live = calloc(n + 1, sizeof *live);
  if (!live) return MLC_ERR(OUT_OF_MEMORY, "plan-memory");
  size_t nlive = 0;
  while (next < n) {
    int64_t step = p->order.data[next]->storage.offset;
    for (; next < n && p->order.data[next]->storage.offset == step; next++) {
      mlc_value_t *v = p->order.data[next];
      int64_t size = align_up(mlc_value_nbytes(v)), off = 0;
      if (size && !take(p, size, &off)) {
        free(live);
        return MLC_ERR(UNSUPPORTED,
                       "plan-memory: value '%s' (%lld bytes) does not fit: "
                       "with the %zu values live beside it the arena would "
                       "pass %lld bytes", v->name, (long long)size, nlive,
                       (long long)INT64_MAX);
      }
      v->storage = (mlc_storage_t){MLC_STORAGE_ARENA, 0, off};
      live[nlive++] = v;
    }
    int64_t until = next < n ? p->order.data[next]->storage.offset : INT64_MAX;
    /* free everything whose last use is before the next definition step */
    size_t j = 0;
    for (size_t i = 0; i < nlive; i++) {
      mlc_value_t *v = live[i];
      if (p->last[v->id] < until) {
        if (!give_back(p, v->storage.offset, align_up(mlc_value_nbytes(v)))) {
          free(live);
          return MLC_ERR(OUT_OF_MEMORY, "plan-memory");
        }
      } else {
        live[j++] = v;
      }
    }
    nlive = j;
  }
  free(live);
  return NULL;
}

static void apply_aliases(planner_t *p) {
  mlc_graph_t *g = p->g;
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *v = g->values.data[i];
    if (p->root[v->id]) v->storage = p->root[v->id]->storage;
  }
}

static mlc_status_t *run_plan(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  (void)ctx;
  size_t nid = (size_t)g->next_value_id + 1;
  planner_t p = {.g = g};
  p.root = calloc(nid, sizeof *p.root);
  p.last = calloc(nid, sizeof *p.last);
  p.cand = calloc(nid, 1);
  mlc_status_t *st = NULL;
  if (!p.root || !p.last || !p.cand) st = MLC_ERR(OUT_OF_MEMORY, "plan-memory");
  if (!st) st = plan_io(&p);
  if (!st) st = plan_weights(&p);
  if (!st) st = liveness(&p);
  if (!st) st = allocate(&p);
  if (!st) {
    apply_aliases(&p);
    g->arena_bytes = p.high;
  }
  free(p.root);
  free(p.last);
  free(p.cand);
  MLC_VEC_FREE(&p.order);
  MLC_VEC_FREE(&p.free_list);
  return st;
}

const mlc_pass_t mlc_pass_plan_memory = {
    .name = "plan-memory",
    .summary = "assign inputs, outputs, weights and arena offsets to values",
    .run = run_plan,
};
