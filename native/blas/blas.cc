// Optional N-API addon: row-major single-precision GEMM via OpenBLAS (cblas_sgemm).
// Used by lib/model/native_blas.ts for the tfjs wasm backend's BatchMatMul when built
// (`npm run build:native`); everything works without it.
#include <node_api.h>
#include "napi_util.h"
#include <cblas.h>
#include <cstdint>
#include <cmath>
#include <string>

extern "C" char* openblas_get_config(void);

static bool getInt(napi_env env, napi_value v, int64_t* out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static bool getBool(napi_env env, napi_value v, bool* out) {
  return napi_get_value_bool(env, v, out) == napi_ok;
}

// sgemm(transA, transB, M, N, K, A, B, C): C (M×N) = op(A) (M×K) · op(B) (K×N), row-major,
// op(A) = Aᵀ when transA (A stored K×M), op(B) = Bᵀ when transB (B stored N×K).
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 8, "sgemm(transA, transB, M, N, K, A, B, C): 8 arguments expected");
  bool ta, tb;
  int64_t M, N, K;
  CHECK(env, getBool(env, argv[0], &ta) && getBool(env, argv[1], &tb), "sgemm: transA/transB must be booleans");
  CHECK(env, getInt(env, argv[2], &M) && getInt(env, argv[3], &N) && getInt(env, argv[4], &K), "sgemm: M, N, K must be integers");
  CHECK(env, M >= 0 && N >= 0 && K >= 0 && M < (1LL << 31) && N < (1LL << 31) && K < (1LL << 31), "sgemm: dimensions out of range");
  float *A, *B, *C;
  size_t la, lb, lc;
  CHECK(env, getFloat32(env, argv[5], &A, &la), "sgemm: A must be a Float32Array");
  CHECK(env, getFloat32(env, argv[6], &B, &lb), "sgemm: B must be a Float32Array");
  CHECK(env, getFloat32(env, argv[7], &C, &lc), "sgemm: C must be a Float32Array");
  CHECK(env, (int64_t)la >= M * K && (int64_t)lb >= K * N && (int64_t)lc >= M * N, "sgemm: an array is shorter than its dimensions");
  if (M == 0 || N == 0) return nullptr;
  if (K == 0) {
    for (int64_t i = 0; i < M * N; i++) C[i] = 0.0f;
    return nullptr;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A,
              ta ? (int)M : (int)K, B, tb ? (int)K : (int)N, 0.0f, C, (int)N);
  return nullptr;
}

// adamUpdate(w, g, m, v, out, lr, beta1, beta2, c1, c2, eps): one fused Adam step, the rule of
// tf.train.adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; out = w − lr·(m/c1)/(√(v/c2) + ε),
// c1 = 1 − β1^t, c2 = 1 − β2^t. m and v are updated in place; out may not alias w (a fresh tensor,
// so caches keyed by tensor id in the wasm backend never see stale weights).
static napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 11, "adamUpdate(w, g, m, v, out, lr, beta1, beta2, c1, c2, eps): 11 arguments expected");
  float *w, *g, *m, *v, *out;
  size_t lw, lg, lm, lv, lo;
  CHECK(env, getFloat32(env, argv[0], &w, &lw) && getFloat32(env, argv[1], &g, &lg) && getFloat32(env, argv[2], &m, &lm) &&
                 getFloat32(env, argv[3], &v, &lv) && getFloat32(env, argv[4], &out, &lo),
        "adamUpdate: w, g, m, v, out must be Float32Arrays");
  CHECK(env, lg == lw && lm == lw && lv == lw && lo == lw, "adamUpdate: arrays differ in length");
  double p[6];
  for (int i = 0; i < 6; i++) CHECK(env, napi_get_value_double(env, argv[5 + i], &p[i]) == napi_ok, "adamUpdate: numeric hyper-parameters expected");
  const float lr = (float)p[0], b1 = (float)p[1], b2 = (float)p[2], c1 = (float)p[3], c2 = (float)p[4], eps = (float)p[5];
  // 1 − β from the double β, rounded once, as tf.train.adam does.
  const float a1 = (float)(1.0 - p[1]), a2 = (float)(1.0 - p[2]);
  for (size_t j = 0; j < lw; j++) {
    const float gj = g[j];
    const float mj = b1 * m[j] + a1 * gj;
    const float vj = b2 * v[j] + a2 * (gj * gj);
    m[j] = mj;
    v[j] = vj;
    out[j] = w[j] - lr * (mj / c1) / (sqrtf(vj / c2) + eps);
  }
  return nullptr;
}

static napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t n;
  CHECK(env, argc == 1 && getInt(env, argv[0], &n) && n >= 1, "setNumThreads(n): n ≥ 1 expected");
  openblas_set_num_threads((int)n);
  return nullptr;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  napi_value s;
  const char* c = openblas_get_config();
  napi_create_string_utf8(env, c ? c : "unknown", NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value InitTrainer(napi_env env, napi_value exports);  // trainer.cc

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setNumThreads", nullptr, SetNumThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"config", nullptr, Config, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 4, props);
  return InitTrainer(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
