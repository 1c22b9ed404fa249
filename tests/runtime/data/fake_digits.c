/* A fake digits classifier for the embedding example's test: input 'image'
 * float32[1,1,8,8], output 'logits' float32[1,10] with logits[k] = 1 for
 * k = (int)image[0] (clamped to 0..9), 0 otherwise.  Built at test time. */
#include <stdint.h>

#include "mlc/model_abi.h"

static const int64_t in_dims[4] = {1, 1, 8, 8};
static const int64_t out_dims[2] = {1, 10};
static const mlc_abi_tensor_t inputs[1] = {{"image", 1, 4, in_dims, 0, 256}};
static const mlc_abi_tensor_t outputs[1] = {{"logits", 1, 2, out_dims, 0, 40}};

static int32_t run(const mlc_abi_exec_t *exec, const void *weights,
                   void *arena, void *const *in, void *const *out) {
  const float *x = in[0];
  float *y = out[0];
  int k = (int)x[0];
  k = k < 0 ? 0 : k > 9 ? 9 : k;
  for (int i = 0; i < 10; i++) y[i] = i == k ? 1.0f : 0.0f;
  return 0;
}

static const mlc_abi_model_t model = {
    .abi_version = MLC_ABI_VERSION,
    .struct_size = sizeof(mlc_abi_model_t),
    .name = "digits",
    .producer = "test fixture",
    .target = "generic",
    .num_inputs = 1,
    .num_outputs = 1,
    .inputs = inputs,
    .outputs = outputs,
    .arena_bytes = 0,
    .arena_align = 64,
    .run = run,
};

const mlc_abi_model_t *mlc_model_get(void) { return &model; }
const mlc_abi_model_t *digits_model_get(void) { return &model; }
