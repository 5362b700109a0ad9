// Native MLP training step for lib/model/train_step.ts: forward (sgemm + fused bias/activation/
// dropout), MSE loss, backward (sgemm + fused activation gradient and bias column sums) and the
// Adam update in place, all in one call on buffers allocated once. Weights, Adam moments and
// gradients live in one Float32Array "arena" owned by JS ([params | m | v | grads], tfjs order:
// kernel (in×out, row-major), bias per layer), so JS copies them into the tfjs model when needed.
//
// Two threads (optional): every phase is two fixed tasks (forward products by output columns,
// backward: dX as one task and dW as the other, elementwise passes by columns) that the calling
// thread and one worker claim as they come free. The single-thread mode runs the same tasks in
// sequence, so results are bitwise identical for 1 and 2 threads.
#include <node_api.h>
#include "napi_util.h"
#include <cblas.h>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_PAUSE() _mm_pause()
#else
#define CPU_PAUSE() ((void)0)
#endif

namespace {

enum Act { ACT_LINEAR = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_SIGMOID = 3, ACT_ELU = 4 };

// One worker thread. run(f) runs the phase's two fixed tasks f(0), f(1): each thread claims the
// next unclaimed task, so when the worker is not scheduled (busy shared cores) the caller runs
// both itself instead of waiting. Which thread runs a task never changes what it computes.
class Pool {
 public:
  explicit Pool(bool two) {
    if (two) worker_ = std::thread([this] { loop(); });
  }
  ~Pool() {
    if (worker_.joinable()) {
      {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
        state_.fetch_add(kGenStep, std::memory_order_acq_rel);
      }
      cv_.notify_all();
      worker_.join();
    }
  }
  template <class F>
  void run(F& f) {
    if (!worker_.joinable()) {
      f(0);
      f(1);
      return;
    }
    ctx_ = &f;
    fn_ = [](void* c, int t) { (*static_cast<F*>(c))(t); };
    completed_.store(0, std::memory_order_relaxed);
    uint64_t g;
    {
      std::lock_guard<std::mutex> lk(mu_);
      // New generation, task index 0 (release: the worker sees fn_/ctx_ once it sees the generation).
      g = (state_.load(std::memory_order_relaxed) >> kGenShift) + 1;
      state_.store(g << kGenShift, std::memory_order_release);
    }
    cv_.notify_one();
    int t;
    while ((t = claim(g)) >= 0) {
      fn_(ctx_, t);
      completed_.fetch_add(1, std::memory_order_acq_rel);
    }
    // Wait only for a task the worker has claimed and is running.
    for (int i = 0; completed_.load(std::memory_order_acquire) != 2; i++) {
      if (i < kSpin) {
        CPU_PAUSE();
      } else {
        std::unique_lock<std::mutex> lk(mu_);
        doneCv_.wait(lk, [&] { return completed_.load(std::memory_order_acquire) == 2; });
      }
    }
  }

 private:
  static constexpr int kSpin = 4000;  // ≈ 0.1 ms of PAUSE
  static constexpr int kGenShift = 8;
  static constexpr uint64_t kGenStep = 1ull << kGenShift;
  // Claims the next task of generation g: its index, or −1 when none is left (or g is over).
  int claim(uint64_t g) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((s >> kGenShift) != g) return -1;
      const int next = (int)(s & (kGenStep - 1));
      if (next >= 2) return -1;
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return next;
    }
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      for (int i = 0;; i++) {
        g = state_.load(std::memory_order_acquire) >> kGenShift;
        if (g != seen || stop_) break;
        if (i < kSpin) {
          CPU_PAUSE();
        } else {
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return (state_.load(std::memory_order_acquire) >> kGenShift) != seen || stop_; });
        }
      }
      if (stop_) return;
      seen = g;
      int t;
      while ((t = claim(g)) >= 0) {
        fn_(ctx_, t);
        // The caller may be asleep waiting for this task.
        std::lock_guard<std::mutex> lk(mu_);
        completed_.fetch_add(1, std::memory_order_acq_rel);
        doneCv_.notify_one();
      }
    }
  }
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_, doneCv_;
  std::atomic<uint64_t> state_{0};  // generation << 8 | next task index
  std::atomic<int> completed_{0};
  std::atomic<bool> stop_{false};
  void* ctx_ = nullptr;
  void (*fn_)(void*, int) = nullptr;
};

float* allocFloats(size_t n) {
  size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, bytes > 0 ? bytes : 64);
  std::memset(p, 0, bytes > 0 ? bytes : 64);
  return static_cast<float*>(p);
}

// Splits [0, n) at a multiple of 16 near the middle (SIMD-friendly halves).
inline size_t half(size_t n) {
  size_t h = (n / 2 + 15) / 16 * 16;
  return h > n ? n : h;
}

inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Trainer {
  int L = 0;                 // layers
  std::vector<int> w;        // widths, L+1
  int act = ACT_RELU;
  int maxRows = 0;
  size_t P = 0;              // parameter count
  std::vector<size_t> offW, offB;
  napi_ref arenaRef = nullptr;
  float* arena = nullptr;    // [params | m | v | grads]
  std::vector<float*> A;     // activation outputs per layer (rows × w[l+1]); A[L-1] = prediction
  std::vector<float*> H;     // next layer's input: A, or Hd while dropout is on
  std::vector<float*> Hd;    // dropped-out copies (hidden layers, allocated at first use)
  std::vector<uint8_t*> keep;  // dropout masks (hidden layers)
  std::vector<float*> G;     // dZ per layer
  std::vector<float*> D;     // dX per layer ≥ 1 (gradient w.r.t. the layer's input)
  Pool* pool = nullptr;
  ~Trainer() {
    for (auto p : A) std::free(p);
    for (auto p : Hd) std::free(p);
    for (auto p : keep) std::free(p);
    for (auto p : G) std::free(p);
    for (auto p : D) std::free(p);
    delete pool;
  }
  float* W(int l) { return arena + offW[l]; }
  float* B(int l) { return arena + offB[l]; }
};

inline float activate(int act, float z) {
  switch (act) {
    case ACT_RELU: return z > 0.0f ? z : 0.0f;
    case ACT_TANH: return std::tanh(z);
    case ACT_SIGMOID: return 1.0f / (1.0f + std::exp(-z));
    case ACT_ELU: return z > 0.0f ? z : std::expm1(z);
    default: return z;
  }
}

// Derivative from the activation's output a.
inline float dActivate(int act, float a) {
  switch (act) {
    case ACT_RELU: return a > 0.0f ? 1.0f : 0.0f;
    case ACT_TANH: return 1.0f - a * a;
    case ACT_SIGMOID: return a * (1.0f - a);
    case ACT_ELU: return a > 0.0f ? 1.0f : a + 1.0f;
    default: return 1.0f;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Elementwise passes are memory/latency bound at SSE2 width; pick AVX2/AVX-512 at load time.
#define VEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VEC_CLONES
#endif

// z ← act(z + b) over one row segment.
VEC_CLONES void biasAct(float* z, const float* b, size_t n, int act) {
  if (act == ACT_RELU) {
    for (size_t j = 0; j < n; j++) {
      const float v = z[j] + b[j];
      z[j] = v > 0.0f ? v : 0.0f;
    }
  } else if (act == ACT_LINEAR) {
    for (size_t j = 0; j < n; j++) z[j] += b[j];
  } else {
    for (size_t j = 0; j < n; j++) z[j] = activate(act, z[j] + b[j]);
  }
}

// g ← d ⊙ act'(a); gb += g (one row segment, no dropout).
VEC_CLONES void actGrad(float* g, float* gb, const float* d, const float* a, size_t n, int act) {
  if (act == ACT_RELU) {
    for (size_t j = 0; j < n; j++) {
      const float v = a[j] > 0.0f ? d[j] : 0.0f;
      g[j] = v;
      gb[j] += v;
    }
  } else {
    for (size_t j = 0; j < n; j++) {
      const float v = d[j] * dActivate(act, a[j]);
      g[j] = v;
      gb[j] += v;
    }
  }
}

// Forward pass of `rows` rows; dropout (rate > 0) on hidden layers with masks from (seed, layer, index).
void forward(Trainer& t, const float* x, int rows, float rate, uint64_t seed) {
  const float scale = rate > 0 ? 1.0f / (1.0f - rate) : 1.0f;
  for (int l = 0; l < t.L; l++) {
    const int in = t.w[l], out = t.w[l + 1];
    const float* X = l == 0 ? x : t.H[l - 1];
    float* Z = t.A[l];
    const float* Wl = t.W(l);
    const float* bl = t.B(l);
    const bool hidden = l < t.L - 1;
    const int act = hidden ? t.act : ACT_LINEAR;
    const bool drop = hidden && rate > 0;
    float* Hl = t.H[l];
    uint8_t* K = drop ? t.keep[l] : nullptr;
    const size_t h = half(out);
    auto task = [&](int tid) {
      const size_t c0 = tid == 0 ? 0 : h, c1 = tid == 0 ? h : out;
      if (c1 <= c0) return;
      const int n = (int)(c1 - c0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, in, 1.0f, X, in, Wl + c0, out, 0.0f, Z + c0, out);
      for (int r = 0; r < rows; r++) {
        float* z = Z + (size_t)r * out;
        biasAct(z + c0, bl + c0, c1 - c0, act);
        if (drop) {
          float* hr = Hl + (size_t)r * out;
          uint8_t* kr = K + (size_t)r * out;
          const uint64_t base = seed * 0x100000001b3ULL + (uint64_t)l * 0x9e3779b97f4a7c15ULL + (uint64_t)r * out;
          for (size_t j = c0; j < c1; j++) {
            const float u = (float)(mix64(base + j) >> 40) * (1.0f / 16777216.0f);
            const bool k = u >= rate;
            kr[j] = k;
            hr[j] = k ? z[j] * scale : 0.0f;
          }
        }
      }
    };
    t.pool->run(task);
  }
}

// Mean squared error of the prediction against y; with grad, writes dZ of the last layer and its bias gradient.
double mseLoss(Trainer& t, const float* y, int rows, bool grad) {
  const int m = t.w[t.L];
  const float* P = t.A[t.L - 1];
  double sum = 0;
  const float k = 2.0f / ((float)rows * (float)m);
  float* Gl = t.G[t.L - 1];
  float* gb = t.arena + 3 * t.P + t.offB[t.L - 1];
  if (grad) std::memset(gb, 0, sizeof(float) * m);
  for (int r = 0; r < rows; r++) {
    const float* p = P + (size_t)r * m;
    const float* yr = y + (size_t)r * m;
    float* g = Gl + (size_t)r * m;
    float s = 0;
    for (int j = 0; j < m; j++) {
      const float d = p[j] - yr[j];
      s += d * d;
      if (grad) {
        g[j] = k * d;
        gb[j] += g[j];
      }
    }
    sum += s;
  }
  return sum / ((double)rows * m);
}

struct AdamArgs {
  // keep: the AdamW factor 1 − lr·λ (decoupled weight decay), 1 for plain Adam
  float lr, b1, b2, c1, c2, eps, a1, a2, keep;
};

VEC_CLONES void adam(float* w, const float* g, float* m, float* v, size_t n, const AdamArgs& a) {
  if (a.keep != 1.0f) {
    // AdamW: the weight is decayed, then takes the Adam step (the gradient was taken at the old weight).
    for (size_t j = 0; j < n; j++) {
      const float gj = g[j];
      const float mj = a.b1 * m[j] + a.a1 * gj;
      const float vj = a.b2 * v[j] + a.a2 * (gj * gj);
      m[j] = mj;
      v[j] = vj;
      const float wj = w[j] * a.keep;
      w[j] = wj - a.lr * (mj / a.c1) / (std::sqrt(vj / a.c2) + a.eps);
    }
    return;
  }
  // Plain Adam: kept as its own loop so results without decay stay bitwise those of before.
  for (size_t j = 0; j < n; j++) {
    const float gj = g[j];
    const float mj = a.b1 * m[j] + a.a1 * gj;
    const float vj = a.b2 * v[j] + a.a2 * (gj * gj);
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j] - a.lr * (mj / a.c1) / (std::sqrt(vj / a.c2) + a.eps);
  }
}

// Adam over elements [j0, j1) of the layer's kernel followed by its bias (as one range).
void adamLayerRange(Trainer& t, int l, size_t j0, size_t j1, const AdamArgs& a) {
  const size_t nW = (size_t)t.w[l] * t.w[l + 1];
  const size_t P = t.P;
  auto span = [&](size_t off, size_t s0, size_t s1) {
    if (s1 > s0) adam(t.arena + off + s0, t.arena + 3 * P + off + s0, t.arena + P + off + s0, t.arena + 2 * P + off + s0, s1 - s0, a);
  };
  if (j0 < nW) span(t.offW[l], j0, j1 < nW ? j1 : nW);
  if (j1 > nW) span(t.offB[l], (j0 > nW ? j0 : nW) - nW, j1 - nW);
}

// Backward pass and Adam update (gradients left in the arena's grads region).
void backwardAndUpdate(Trainer& t, const float* x, int rows, float rate, const AdamArgs& a) {
  const size_t P = t.P;
  const float scale = rate > 0 ? 1.0f / (1.0f - rate) : 1.0f;
  for (int l = t.L - 1; l >= 0; l--) {
    const int in = t.w[l], out = t.w[l + 1];
    const float* X = l == 0 ? x : t.H[l - 1];
    const float* Gl = t.G[l];
    float* gW = t.arena + 3 * P + t.offW[l];
    const float* Wl = t.W(l);
    if (l > 0) {
      // dX = G·Wᵀ on one thread, dW = Xᵀ·G on the other.
      float* Dl = t.D[l];
      auto task = [&](int tid) {
        if (tid == 0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, in, out, 1.0f, Gl, out, Wl, out, 0.0f, Dl, in);
        else
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, rows, 1.0f, X, in, Gl, out, 0.0f, gW, out);
      };
      t.pool->run(task);
      // Previous layer's dZ (+ its bias gradient) by columns; this layer's Adam step by halves.
      const int pin = in;
      float* Gp = t.G[l - 1];
      const float* Ap = t.A[l - 1];
      const uint8_t* Kp = rate > 0 ? t.keep[l - 1] : nullptr;
      float* gbp = t.arena + 3 * P + t.offB[l - 1];
      const size_t h = half(pin);
      const size_t nl = (size_t)in * out + out;
      const size_t ha = nl / 2;
      auto task2 = [&](int tid) {
        const size_t c0 = tid == 0 ? 0 : h, c1 = tid == 0 ? h : pin;
        for (size_t j = c0; j < c1; j++) gbp[j] = 0.0f;
        for (int r = 0; r < rows; r++) {
          const float* d = Dl + (size_t)r * pin;
          const float* ar = Ap + (size_t)r * pin;
          float* g = Gp + (size_t)r * pin;
          if (Kp) {
            const uint8_t* kr = Kp + (size_t)r * pin;
            for (size_t j = c0; j < c1; j++) {
              const float v = kr[j] ? d[j] * scale * dActivate(t.act, ar[j]) : 0.0f;
              g[j] = v;
              gbp[j] += v;
            }
          } else {
            actGrad(g + c0, gbp + c0, d + c0, ar + c0, c1 - c0, t.act);
          }
        }
        adamLayerRange(t, l, tid == 0 ? 0 : ha, tid == 0 ? ha : nl, a);
      };
      t.pool->run(task2);
    } else {
      // First layer: dW split by rows; each thread then updates the rows it computed.
      const size_t h = half(in);
      auto task = [&](int tid) {
        const size_t r0 = tid == 0 ? 0 : h, r1 = tid == 0 ? h : in;
        if (r1 > r0)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(r1 - r0), out, rows, 1.0f, X + r0, in, Gl, out, 0.0f, gW + r0 * out, out);
        const size_t nW = (size_t)in * out;
        if (tid == 0) adamLayerRange(t, 0, 0, r1 * out, a);
        else adamLayerRange(t, 0, r0 * out, nW + out, a);
      };
      t.pool->run(task);
    }
  }
}

// ---- N-API glue ----

bool getTrainer(napi_env env, napi_value v, Trainer** t) {
  void* p;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) return false;
  *t = static_cast<Trainer*>(p);
  return true;
}

void finalizeTrainer(napi_env env, void* data, void*) {
  Trainer* t = static_cast<Trainer*>(data);
  if (t->arenaRef) napi_delete_reference(env, t->arenaRef);
  delete t;
}

// trainerCreate(widths: Int32Array, activation: int, maxRows: int, arena: Float32Array (4·P), threads: 1|2)
napi_value TrainerCreate(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 5, "trainerCreate(widths, activation, maxRows, arena, threads): 5 arguments expected");
  bool is;
  napi_typedarray_type type;
  size_t nw, off;
  void* wp;
  napi_value buf;
  CHECK(env, napi_is_typedarray(env, argv[0], &is) == napi_ok && is, "trainerCreate: widths must be an Int32Array");
  napi_get_typedarray_info(env, argv[0], &type, &nw, &wp, &buf, &off);
  CHECK(env, type == napi_int32_array && nw >= 2, "trainerCreate: widths must be an Int32Array of ≥ 2 entries");
  int32_t act, maxRows, threads;
  CHECK(env, napi_get_value_int32(env, argv[1], &act) == napi_ok && act >= 0 && act <= 4, "trainerCreate: bad activation code");
  CHECK(env, napi_get_value_int32(env, argv[2], &maxRows) == napi_ok && maxRows >= 1, "trainerCreate: maxRows must be ≥ 1");
  CHECK(env, napi_get_value_int32(env, argv[4], &threads) == napi_ok && (threads == 1 || threads == 2), "trainerCreate: threads must be 1 or 2");
  Trainer* t = new Trainer();
  const int32_t* widths = static_cast<int32_t*>(wp);
  t->L = (int)nw - 1;
  for (size_t i = 0; i < nw; i++) {
    if (widths[i] < 1) {
      delete t;
      napi_throw_error(env, nullptr, "trainerCreate: widths must be ≥ 1");
      return nullptr;
    }
    t->w.push_back(widths[i]);
  }
  t->act = act;
  t->maxRows = maxRows;
  for (int l = 0; l < t->L; l++) {
    t->offW.push_back(t->P);
    t->P += (size_t)t->w[l] * t->w[l + 1];
    t->offB.push_back(t->P);
    t->P += t->w[l + 1];
  }
  size_t la;
  float* arena;
  if (!getFloat32(env, argv[3], &arena, &la) || la != 4 * t->P) {
    delete t;
    napi_throw_error(env, nullptr, "trainerCreate: arena must be a Float32Array of 4 × parameter count");
    return nullptr;
  }
  t->arena = arena;
  napi_create_reference(env, argv[3], 1, &t->arenaRef);  // keeps the arena (and its pointer) alive
  for (int l = 0; l < t->L; l++) {
    const size_t n = (size_t)maxRows * t->w[l + 1];
    t->A.push_back(allocFloats(n));
    t->H.push_back(t->A.back());
    t->keep.push_back(nullptr);
    t->Hd.push_back(nullptr);
    t->G.push_back(allocFloats(n));
    t->D.push_back(l > 0 ? allocFloats((size_t)maxRows * t->w[l]) : nullptr);
  }
  t->pool = new Pool(threads == 2);
  napi_value ext;
  napi_create_external(env, t, finalizeTrainer, nullptr, &ext);
  return ext;
}

// Points each hidden layer's output H at its dropout copy (allocated at first use) or at A.
void useDropout(Trainer& t, bool on) {
  for (int l = 0; l < t.L - 1; l++) {
    if (on && !t.keep[l]) {
      const size_t n = (size_t)t.maxRows * t.w[l + 1];
      t.keep[l] = static_cast<uint8_t*>(std::aligned_alloc(64, ((n + 63) / 64) * 64));
      t.Hd[l] = allocFloats(n);
    }
    t.H[l] = on ? t.Hd[l] : t.A[l];
  }
}

// trainerStep(t, x, y, rows, lr, beta1, beta2, c1, c2, eps, dropout, seed[, keep]) → loss before the update;
// keep = 1 − lr·λ, the AdamW decay factor (default 1: plain Adam).
napi_value TrainerStep(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 12 || argc == 13, "trainerStep(t, x, y, rows, lr, beta1, beta2, c1, c2, eps, dropout, seed[, keep]): 12 or 13 arguments expected");
  Trainer* t;
  CHECK(env, getTrainer(env, argv[0], &t), "trainerStep: bad trainer handle");
  float *x, *y;
  size_t lx, ly;
  CHECK(env, getFloat32(env, argv[1], &x, &lx) && getFloat32(env, argv[2], &y, &ly), "trainerStep: x and y must be Float32Arrays");
  int32_t rows;
  CHECK(env, napi_get_value_int32(env, argv[3], &rows) == napi_ok && rows >= 1 && rows <= t->maxRows, "trainerStep: rows out of range");
  CHECK(env, lx >= (size_t)rows * t->w[0] && ly >= (size_t)rows * t->w[t->L], "trainerStep: x or y shorter than rows × width");
  double p[8];
  for (int i = 0; i < 8; i++) CHECK(env, napi_get_value_double(env, argv[4 + i], &p[i]) == napi_ok, "trainerStep: numeric arguments expected");
  const float rate = (float)p[6];
  CHECK(env, rate >= 0.0f && rate < 1.0f, "trainerStep: dropout must be in [0, 1)");
  useDropout(*t, rate > 0);
  AdamArgs a;
  a.lr = (float)p[0];
  a.b1 = (float)p[1];
  a.b2 = (float)p[2];
  a.c1 = (float)p[3];
  a.c2 = (float)p[4];
  a.eps = (float)p[5];
  // 1 − β from the double β, rounded once, as tf.train.adam does.
  a.a1 = (float)(1.0 - p[1]);
  a.a2 = (float)(1.0 - p[2]);
  a.keep = 1.0f;
  if (argc == 13) {
    double keep;
    CHECK(env, napi_get_value_double(env, argv[12], &keep) == napi_ok && keep > 0.0 && keep <= 1.0, "trainerStep: keep (1 − lr·weightDecay) must be in (0, 1]");
    a.keep = (float)keep;
  }
  const uint64_t seed = (uint64_t)p[7];
  forward(*t, x, rows, rate, seed);
  const double loss = mseLoss(*t, y, rows, true);
  backwardAndUpdate(*t, x, rows, rate, a);
  napi_value out;
  napi_create_double(env, loss, &out);
  return out;
}

// trainerPredict(t, x, rows, out): forward without dropout, in chunks of maxRows; out rows × last width.
napi_value TrainerPredict(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 4, "trainerPredict(t, x, rows, out): 4 arguments expected");
  Trainer* t;
  CHECK(env, getTrainer(env, argv[0], &t), "trainerPredict: bad trainer handle");
  float *x, *out;
  size_t lx, lo;
  CHECK(env, getFloat32(env, argv[1], &x, &lx) && getFloat32(env, argv[3], &out, &lo), "trainerPredict: x and out must be Float32Arrays");
  int32_t rows;
  CHECK(env, napi_get_value_int32(env, argv[2], &rows) == napi_ok && rows >= 0, "trainerPredict: rows must be ≥ 0");
  const int d = t->w[0], m = t->w[t->L];
  CHECK(env, lx >= (size_t)rows * d && lo >= (size_t)rows * m, "trainerPredict: x or out shorter than rows × width");
  useDropout(*t, false);
  for (int s = 0; s < rows; s += t->maxRows) {
    const int n = rows - s < t->maxRows ? rows - s : t->maxRows;
    forward(*t, x + (size_t)s * d, n, 0.0f, 0);
    std::memcpy(out + (size_t)s * m, t->A[t->L - 1], sizeof(float) * (size_t)n * m);
  }
  return nullptr;
}

// biasActivate(C, bias | null, rows, cols, activation): C ← act(C + bias) in place, row-major
// (the epilogue of tfjs's _FusedMatMul after an sgemm; activation codes as trainerCreate).
napi_value BiasActivate(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  CHECK(env, argc == 5, "biasActivate(C, bias, rows, cols, activation): 5 arguments expected");
  float *C, *bias = nullptr;
  size_t lc, lb = 0;
  CHECK(env, getFloat32(env, argv[0], &C, &lc), "biasActivate: C must be a Float32Array");
  napi_valuetype bt;
  napi_typeof(env, argv[1], &bt);
  if (bt != napi_null && bt != napi_undefined) CHECK(env, getFloat32(env, argv[1], &bias, &lb), "biasActivate: bias must be a Float32Array or null");
  int32_t rows, cols, act;
  CHECK(env, napi_get_value_int32(env, argv[2], &rows) == napi_ok && napi_get_value_int32(env, argv[3], &cols) == napi_ok && rows >= 0 && cols >= 0,
        "biasActivate: rows and cols must be integers ≥ 0");
  CHECK(env, napi_get_value_int32(env, argv[4], &act) == napi_ok && act >= 0 && act <= 4, "biasActivate: bad activation code");
  CHECK(env, lc >= (size_t)rows * cols && (!bias || lb >= (size_t)cols), "biasActivate: C or bias too short");
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(cols, 0.0f);
    bias = zeros.data();
  }
  for (int r = 0; r < rows; r++) biasAct(C + (size_t)r * cols, bias, cols, act);
  return nullptr;
}

}  // namespace

napi_value InitTrainer(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"trainerCreate", nullptr, TrainerCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, TrainerStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerPredict", nullptr, TrainerPredict, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasActivate", nullptr, BiasActivate, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 4, props);
  return exports;
}
