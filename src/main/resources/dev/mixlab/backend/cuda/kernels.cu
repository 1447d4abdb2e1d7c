// mixlab CUDA kernels, float32. Each kernel mirrors the CPU/reference kernel of the same IR op
// (backend/reference is the semantic definition). Compiled at run time by NVRTC for the GPU found.
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
typedef unsigned int u32;
typedef unsigned long long u64;

#define GRID_STRIDE(i, n) for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (u64)(n); i += (u64)blockDim.x * gridDim.x)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Block-wide sum; every thread gets the result. Uses 32 floats of shared memory at `sh`.
__device__ float block_sum(float v, float* sh) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) sh[w] = v;
  __syncthreads();
  float r = lane < nw ? sh[lane] : 0.f;
  r = warp_sum(r);
  return r;
}
__device__ float block_max(float v, float* sh) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) sh[w] = v;
  __syncthreads();
  float r = lane < nw ? sh[lane] : -INFINITY;
  return warp_max(r);
}

// ---- dropout hash: identical to dev.mixlab.ir.DropoutHash ----
__device__ __forceinline__ u32 fmix(u32 h) {
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16; return h;
}
__device__ __forceinline__ bool keep(int seed, int salt, u64 index, u32 threshold) {
  u32 h = fmix((u32)seed ^ 0x9e3779b9u);
  h = fmix(h ^ ((u32)salt * 0x27d4eb2fu));
  h = fmix(h ^ (u32)index);
  h = fmix(h ^ ((u32)(index >> 32) * 0x165667b1u));
  return (h >> 8) >= threshold;
}

extern "C" __global__ void fill_zero(float* x, u64 n) { GRID_STRIDE(i, n) x[i] = 0.f; }
extern "C" __global__ void copy_f(const float* x, float* y, u64 n) { GRID_STRIDE(i, n) y[i] = x[i]; }
extern "C" __global__ void copy_i(const int* x, int* y, u64 n) { GRID_STRIDE(i, n) y[i] = x[i]; }

extern "C" __global__ void embedding(const float* table, const int* ids, float* out, u64 rows, int d) {
  GRID_STRIDE(i, rows * d) { u64 r = i / d; out[i] = table[(u64)ids[r] * d + i % d]; }
}
extern "C" __global__ void embedding_grad(const int* ids, const float* dy, float* dt, u64 rows, int d) {
  GRID_STRIDE(i, rows * d) { u64 r = i / d; atomicAdd(&dt[(u64)ids[r] * d + i % d], dy[i]); }
}
extern "C" __global__ void add_bc(const float* a, const float* b, float* y, u64 n, u64 nb) { GRID_STRIDE(i, n) y[i] = a[i] + b[i % nb]; }
extern "C" __global__ void mul_bc(const float* a, const float* b, float* y, u64 n, u64 nb) { GRID_STRIDE(i, n) y[i] = a[i] * b[i % nb]; }
extern "C" __global__ void scale_k(const float* x, float* y, u64 n, float s) { GRID_STRIDE(i, n) y[i] = x[i] * s; }
extern "C" __global__ void broadcast_k(const float* x, float* y, u64 n, u64 nx) { GRID_STRIDE(i, n) y[i] = x[i % nx]; }
// y[j] += sum over a chunk of rows of x[r*nb + j]; y zeroed first. grid.y = row chunks.
extern "C" __global__ void reduce_to(const float* x, float* y, u64 rows, u64 nb, int rowsPerChunk) {
  u64 r0 = (u64)blockIdx.y * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
  for (u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x; j < nb; j += (u64)blockDim.x * gridDim.x) {
    float s = 0.f;
    for (u64 r = r0; r < r1; r++) s += x[r * nb + j];
    atomicAdd(&y[j], s);
  }
}

// y[i*n + j] = x[i] (ExpandLast); y[r] = sum_j x[r*n + j] in row order (SumLast), one thread per row.
extern "C" __global__ void expand_last(const float* x, float* y, u64 nOut, int n) { GRID_STRIDE(i, nOut) y[i] = x[i / (u64)n]; }
extern "C" __global__ void sum_last(const float* x, float* y, u64 rows, int n) {
  GRID_STRIDE(r, rows) {
    const float* xr = x + r * n;
    float s = 0.f;
    for (int j = 0; j < n; j++) s += xr[j];
    y[r] = s;
  }
}

// ---- pointwise: fn codes are fixed here and mapped by name in CudaExecutable.fnCode ----
#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f
__device__ __forceinline__ float act(int fn, float x) {
  switch (fn) {
    case 0: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case 1: return x > 0.f ? x : 0.f;
    case 2: return x / (1.f + expf(-x));
    case 3: return x > 0.f ? x * x : 0.f;
    case 5: return 0.5f * x * (1.f + tanhf(GELU_C * (x + GELU_A * x * x * x)));
    case 6: return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
    case 7: return expf(x);
    case 8: return 1.f / (1.f + expf(-x));
    default: return tanhf(x);
  }
}
__device__ __forceinline__ float dact(int fn, float x) {
  switch (fn) {
    case 0: return 0.5f * (1.f + erff(x * 0.70710678118654752f)) + x * 0.3989422804014327f * expf(-0.5f * x * x);
    case 1: return x > 0.f ? 1.f : 0.f;
    case 2: { float s = 1.f / (1.f + expf(-x)); return s * (1.f + x * (1.f - s)); }
    case 3: return x > 0.f ? 2.f * x : 0.f;
    case 5: { float t = tanhf(GELU_C * (x + GELU_A * x * x * x));
              return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * GELU_C * (1.f + 3.f * GELU_A * x * x); }
    case 6: return 1.f / (1.f + expf(-x));
    case 7: return expf(x);
    case 8: { float s = 1.f / (1.f + expf(-x)); return s * (1.f - s); }
    default: { float t = tanhf(x); return 1.f - t * t; }
  }
}
extern "C" __global__ void unary(const float* x, float* y, u64 n, int fn) { GRID_STRIDE(i, n) y[i] = act(fn, x[i]); }
extern "C" __global__ void unary_grad(const float* x, const float* dy, float* dx, u64 n, int fn) { GRID_STRIDE(i, n) dx[i] = dy[i] * dact(fn, x[i]); }

// ---- norms: one block per row (forward); backward blocks own a chunk of rows and add dw/db once ----
extern "C" __global__ void layernorm(const float* x, const float* w, const float* b, float* y, int d, float eps) {
  __shared__ float sh[32];
  u64 row = blockIdx.x; const float* xr = x + row * d; float* yr = y + row * d;
  float s = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) s += xr[j];
  float mean = block_sum(s, sh) / d;
  float v = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) { float t = xr[j] - mean; v += t * t; }
  float rstd = rsqrtf(block_sum(v, sh) / d + eps);
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float o = (xr[j] - mean) * rstd;
    if (w) o *= w[j];
    if (b) o += b[j];
    yr[j] = o;
  }
}
extern "C" __global__ void layernorm_grad(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                                          u64 rows, int d, float eps, int rowsPerBlock) {
  __shared__ float sh[32];
  extern __shared__ float acc[];   // 2*d: dw, db partials for this block
  for (int j = threadIdx.x; j < 2 * d; j += blockDim.x) acc[j] = 0.f;
  __syncthreads();
  u64 r0 = (u64)blockIdx.x * rowsPerBlock, r1 = min(rows, r0 + rowsPerBlock);
  for (u64 row = r0; row < r1; row++) {
    const float* xr = x + row * d; const float* gr = dy + row * d; float* dxr = dx + row * d;
    float s = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) s += xr[j];
    float mean = block_sum(s, sh) / d;
    float v = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) { float t = xr[j] - mean; v += t * t; }
    float rstd = rsqrtf(block_sum(v, sh) / d + eps);
    float sg = 0.f, sgx = 0.f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      float xh = (xr[j] - mean) * rstd, g = gr[j] * (w ? w[j] : 1.f);
      sg += g; sgx += g * xh;
      acc[j] += gr[j] * xh; acc[d + j] += gr[j];
    }
    sg = block_sum(sg, sh); sgx = block_sum(sgx, sh);
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      float xh = (xr[j] - mean) * rstd, g = gr[j] * (w ? w[j] : 1.f);
      dxr[j] = rstd * (g - sg / d - xh * sgx / d);
    }
  }
  __syncthreads();
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    if (dw) atomicAdd(&dw[j], acc[j]);
    if (db) atomicAdd(&db[j], acc[d + j]);
  }
}
extern "C" __global__ void rmsnorm(const float* x, const float* w, float* y, int d, float eps) {
  __shared__ float sh[32];
  u64 row = blockIdx.x; const float* xr = x + row * d; float* yr = y + row * d;
  float s = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) s += xr[j] * xr[j];
  float r = rsqrtf(block_sum(s, sh) / d + eps);
  for (int j = threadIdx.x; j < d; j += blockDim.x) yr[j] = xr[j] * r * (w ? w[j] : 1.f);
}
extern "C" __global__ void rmsnorm_grad(const float* x, const float* w, const float* dy, float* dx, float* dw,
                                        u64 rows, int d, float eps, int rowsPerBlock) {
  __shared__ float sh[32];
  extern __shared__ float acc[];
  for (int j = threadIdx.x; j < d; j += blockDim.x) acc[j] = 0.f;
  __syncthreads();
  u64 r0 = (u64)blockIdx.x * rowsPerBlock, r1 = min(rows, r0 + rowsPerBlock);
  for (u64 row = r0; row < r1; row++) {
    const float* xr = x + row * d; const float* gr = dy + row * d; float* dxr = dx + row * d;
    float s = 0.f; for (int j = threadIdx.x; j < d; j += blockDim.x) s += xr[j] * xr[j];
    float r = rsqrtf(block_sum(s, sh) / d + eps);
    float sgx = 0.f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      float xh = xr[j] * r; sgx += gr[j] * (w ? w[j] : 1.f) * xh; acc[j] += gr[j] * xh;
    }
    sgx = block_sum(sgx, sh);
    for (int j = threadIdx.x; j < d; j += blockDim.x) dxr[j] = r * (gr[j] * (w ? w[j] : 1.f) - xr[j] * r * sgx / d);
  }
  __syncthreads();
  if (dw) for (int j = threadIdx.x; j < d; j += blockDim.x) atomicAdd(&dw[j], acc[j]);
}

// ---- attention, q [B,T,H,hd], k/v [B,T,KV,hd]; one block per (b, h, i) query row. Each warp takes
// keys j = warp, warp+nw, ...: its lanes split head_dim (coalesced loads) and a shuffle sums the dot.
// Scores live in shared memory. head_dim <= 256 (8 values per lane in registers).
#define MAXR 8
__device__ __forceinline__ void load_row(const float* r, int hd, float* v) {
  int lane = threadIdx.x & 31;
  #pragma unroll
  for (int t = 0; t < MAXR; t++) { int c = lane + 32 * t; v[t] = c < hd ? r[c] : 0.f; }
}
__device__ __forceinline__ float dot_row(const float* v, const float* r, int hd) {
  int lane = threadIdx.x & 31; float s = 0.f;
  #pragma unroll
  for (int t = 0; t < MAXR; t++) { int c = lane + 32 * t; if (c < hd) s += v[t] * r[c]; }
  return warp_sum(s);
}
// First key query position i attends: 0, or i-window+1 with a sliding window (window > 0).
__device__ __forceinline__ int win_lo(int i, int window) { return window > 0 ? max(0, i - window + 1) : 0; }
// Logit softcap of a scaled score: c·tanh(s/c) with c > 0, s itself with c = 0.
__device__ __forceinline__ float soft_cap(float s, float c) { return c > 0.f ? c * tanhf(s / c) : s; }
// d(capped)/d(scaled score) from the capped score: 1 − tanh²(s/c), 1 without a cap.
__device__ __forceinline__ float soft_cap_grad(float capped, float c) { return c > 0.f ? 1.f - (capped / c) * (capped / c) : 1.f; }
// ALiBi slope of query head h of H (0 without ALiBi): 2^(−8(h+1)/n) for the first n heads (n the largest
// power of two <= H), then the odd-indexed slopes of 2n, 2^(−8(2(h−n)+1)/(2n)), for the rest. The score of
// query i and key j (after any softcap) gets −slope·(i − j); the bias has no gradient.
__device__ __forceinline__ float alibi_slope(int alibi, int h, int H) {
  if (!alibi) return 0.f;
  int n = 1; while (2 * n <= H) n *= 2;
  return h < n ? exp2f(-8.f * (h + 1) / n) : exp2f(-8.f * (2 * (h - n) + 1) / (2 * n));
}
// Scores of query row (b,h,i) into p[lo..i] (lo = win_lo(i, window)), softcapped, ALiBi-biased, softmax normalised; returns
// log-sum-exp. With dcap non-null (and softcap > 0) the cap's derivative per key into dcap[lo..i].
__device__ float softmax_row(const float* q, const float* k, float* p, float* sh, int b, int h, int i, int T, int H, int KV,
                             int hd, float scale, int window, float softcap, int alibi, float* dcap) {
  int kh = h / (H / KV), warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5, lo = win_lo(i, window);
  float qv[MAXR]; load_row(q + (((u64)b * T + i) * H + h) * hd, hd, qv);
  float sl = alibi_slope(alibi, h, H);
  for (int j = lo + warp; j <= i; j += nw) {
    float s = soft_cap(dot_row(qv, k + (((u64)b * T + j) * KV + kh) * hd, hd) * scale, softcap);
    if (lane == 0) { if (dcap) dcap[j] = soft_cap_grad(s, softcap); p[j] = s - sl * (float)(i - j); }
  }
  __syncthreads();
  float mx = -INFINITY;
  for (int j = lo + threadIdx.x; j <= i; j += blockDim.x) mx = fmaxf(mx, p[j]);
  mx = block_max(mx, sh);
  float sum = 0.f;
  for (int j = lo + threadIdx.x; j <= i; j += blockDim.x) { float e = expf(p[j] - mx); p[j] = e; sum += e; }
  sum = block_sum(sum, sh);
  float inv = 1.f / sum;
  for (int j = lo + threadIdx.x; j <= i; j += blockDim.x) p[j] *= inv;
  __syncthreads();
  return mx + logf(sum);
}
extern "C" __global__ void attention_fwd(const float* q, const float* k, const float* v, float* out, int T, int H, int KV, int hd,
                                         float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  extern __shared__ float p[];
  __shared__ float sh[32];
  int i = blockIdx.x % T, h = (blockIdx.x / T) % H, b = blockIdx.x / (T * H), kh = h / (H / KV), lo = win_lo(i, window);
  softmax_row(q, k, p, sh, b, h, i, T, H, KV, hd, scale, window, softcap, alibi, nullptr);
  if (dropout > 0.f) {
    u32 thr = (u32)llrint((double)dropout * 16777216.0);
    float ks = 1.f / (1.f - dropout); int seed = *seedp;
    for (int j = lo + threadIdx.x; j <= i; j += blockDim.x)
      p[j] = keep(seed, salt, (((u64)b * H + h) * T + i) * T + j, thr) ? p[j] * ks : 0.f;
    __syncthreads();
  }
  float* o = out + (((u64)b * T + i) * H + h) * hd;
  for (int c = threadIdx.x; c < hd; c += blockDim.x) {
    float s = 0.f;
    for (int j = lo; j <= i; j++) s += p[j] * v[(((u64)b * T + j) * KV + kh) * hd + c];
    o[c] = s;
  }
}
// Backward, part 1, per query row: dq, and the row's log-sum-exp and D = sum_j p_j dp_j into lseD
// ([B,H,T,2]) for part 2. No atomics.
extern "C" __global__ void attention_bwd_q(const float* q, const float* k, const float* v, const float* dy, float* dq, float* lseD,
                                           int T, int H, int KV, int hd, float scale, float dropout, int salt, const int* seedp,
                                           int window, float softcap, int alibi) {
  extern __shared__ float sm[];      // p[T], ds[T], and with a softcap the cap's derivative dcap[T]
  float* p = sm; float* ds = sm + T; float* dcap = softcap > 0.f ? sm + 2 * T : nullptr;
  __shared__ float sh[32];
  int i = blockIdx.x % T, h = (blockIdx.x / T) % H, b = blockIdx.x / (T * H), kh = h / (H / KV), lo = win_lo(i, window);
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  float lse = softmax_row(q, k, p, sh, b, h, i, T, H, KV, hd, scale, window, softcap, alibi, dcap);
  u32 thr = (u32)llrint((double)dropout * 16777216.0);
  float ks = dropout > 0.f ? 1.f / (1.f - dropout) : 1.f;
  int seed = dropout > 0.f ? *seedp : 0;
  float gv[MAXR]; load_row(dy + (((u64)b * T + i) * H + h) * hd, hd, gv);
  for (int j = lo + warp; j <= i; j += nw) {
    float g = dot_row(gv, v + (((u64)b * T + j) * KV + kh) * hd, hd);
    if (lane == 0) {
      float m = dropout > 0.f ? (keep(seed, salt, (((u64)b * H + h) * T + i) * T + j, thr) ? ks : 0.f) : 1.f;
      ds[j] = g * m;                 // dp_j for now
    }
  }
  __syncthreads();
  float dot = 0.f;
  for (int j = lo + threadIdx.x; j <= i; j += blockDim.x) dot += p[j] * ds[j];
  dot = block_sum(dot, sh);
  for (int j = lo + threadIdx.x; j <= i; j += blockDim.x) ds[j] = p[j] * (ds[j] - dot) * scale * (dcap ? dcap[j] : 1.f);
  __syncthreads();
  float* dqr = dq + (((u64)b * T + i) * H + h) * hd;
  for (int c = threadIdx.x; c < hd; c += blockDim.x) {
    float s = 0.f;
    for (int j = lo; j <= i; j++) s += ds[j] * k[(((u64)b * T + j) * KV + kh) * hd + c];
    dqr[c] = s;
  }
  if (threadIdx.x == 0) { u64 r = (((u64)b * H + h) * T + i) * 2; lseD[r] = lse; lseD[r + 1] = dot; }
}
// Backward, part 2, per key row (b, kv head, j): dk_j and dv_j summed over the query heads of the
// group and the queries i >= j. Each warp takes queries i = j+warp, j+warp+nw, ...; lanes hold
// partial dk/dv over head_dim; warps combine through shared memory. No atomics.
extern "C" __global__ void attention_bwd_kv(const float* q, const float* k, const float* v, const float* dy, const float* lseD,
                                            float* dk, float* dv, int T, int H, int KV, int hd, float scale, float dropout,
                                            int salt, const int* seedp, int window, float softcap, int alibi) {
  extern __shared__ float red[];     // [nw][2*hd]
  int j = blockIdx.x % T, kh = (blockIdx.x / T) % KV, b = blockIdx.x / (T * KV), group = H / KV;
  int iEnd = window > 0 ? min(T, j + window) : T;   // queries j <= i < iEnd see key j
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  u32 thr = (u32)llrint((double)dropout * 16777216.0);
  float ks = dropout > 0.f ? 1.f / (1.f - dropout) : 1.f;
  int seed = dropout > 0.f ? *seedp : 0;
  float kv[MAXR], vv[MAXR], adk[MAXR], adv[MAXR];
  load_row(k + (((u64)b * T + j) * KV + kh) * hd, hd, kv);
  load_row(v + (((u64)b * T + j) * KV + kh) * hd, hd, vv);
  #pragma unroll
  for (int t = 0; t < MAXR; t++) { adk[t] = 0.f; adv[t] = 0.f; }
  for (int hh = 0; hh < group; hh++) {
    int h = kh * group + hh;
    float sl = alibi_slope(alibi, h, H);
    for (int i = j + warp; i < iEnd; i += nw) {
      const float* qr = q + (((u64)b * T + i) * H + h) * hd;
      const float* gr = dy + (((u64)b * T + i) * H + h) * hd;
      u64 r = (((u64)b * H + h) * T + i) * 2;
      float s = soft_cap(dot_row(kv, qr, hd) * scale, softcap);
      float pij = expf(s - sl * (float)(i - j) - lseD[r]);
      float m = dropout > 0.f ? (keep(seed, salt, (((u64)b * H + h) * T + i) * T + j, thr) ? ks : 0.f) : 1.f;
      float dp = dot_row(vv, gr, hd) * m;
      float dsij = pij * (dp - lseD[r + 1]) * scale * soft_cap_grad(s, softcap);
      float pm = pij * m;
      #pragma unroll
      for (int t = 0; t < MAXR; t++) {
        int c = lane + 32 * t;
        if (c < hd) { adk[t] += dsij * qr[c]; adv[t] += pm * gr[c]; }
      }
    }
  }
  #pragma unroll
  for (int t = 0; t < MAXR; t++) {
    int c = lane + 32 * t;
    if (c < hd) { red[warp * 2 * hd + c] = adk[t]; red[warp * 2 * hd + hd + c] = adv[t]; }
  }
  __syncthreads();
  for (int c = threadIdx.x; c < 2 * hd; c += blockDim.x) {
    float s = 0.f;
    for (int w = 0; w < nw; w++) s += red[w * 2 * hd + c];
    if (c < hd) dk[(((u64)b * T + j) * KV + kh) * hd + c] = s;
    else dv[(((u64)b * T + j) * KV + kh) * hd + c - hd] = s;
  }
}
// cached attention: q [B,S,H,hd] at positions pos..pos+S-1 against caches [B,Tmax,KV,hd]
extern "C" __global__ void cached_attention(const float* q, const float* k, const float* v, float* out, int S, int H, int KV, int hd,
                                            int Tmax, float scale, const int* posp, int window, float softcap, int alibi) {
  extern __shared__ float p[];
  __shared__ float sh[32];
  int pos = *posp;
  int i = blockIdx.x % S, h = (blockIdx.x / S) % H, b = blockIdx.x / (S * H), kh = h / (H / KV), last = pos + i;
  int lo = win_lo(last, window);
  float sl = alibi_slope(alibi, h, H);
  const float* qr = q + (((u64)b * S + i) * H + h) * hd;
  float mx = -INFINITY;
  for (int j = lo + threadIdx.x; j <= last; j += blockDim.x) {
    const float* kr = k + (((u64)b * Tmax + j) * KV + kh) * hd;
    float s = 0.f; for (int c = 0; c < hd; c++) s += qr[c] * kr[c];
    s = soft_cap(s * scale, softcap) - sl * (float)(last - j); p[j] = s; mx = fmaxf(mx, s);
  }
  mx = block_max(mx, sh);
  float sum = 0.f;
  for (int j = lo + threadIdx.x; j <= last; j += blockDim.x) { float e = expf(p[j] - mx); p[j] = e; sum += e; }
  sum = block_sum(sum, sh);
  __syncthreads();
  float* o = out + (((u64)b * S + i) * H + h) * hd;
  for (int c = threadIdx.x; c < hd; c += blockDim.x) {
    float s = 0.f;
    for (int j = lo; j <= last; j++) s += p[j] * v[(((u64)b * Tmax + j) * KV + kh) * hd + c];
    o[c] = s / sum;
  }
}
extern "C" __global__ void kv_write(float* cache, const float* x, int B, int S, int Tmax, int row, const int* posp) {
  int pos = *posp;
  GRID_STRIDE(i, (u64)B * S * row) {
    u64 b = i / ((u64)S * row), rest = i % ((u64)S * row);
    cache[(b * Tmax + pos) * row + rest] = x[i];
  }
}
extern "C" __global__ void position_ids(const int* posp, int* out, int n) { GRID_STRIDE(i, n) out[i] = *posp + (int)i; }

// rope on x [B,T,H,hd]; pair (j, j+dims/2) or (2j, 2j+1); position t + *posp (posp may be null)
extern "C" __global__ void rope(const float* x, float* y, int B, int T, int H, int hd, int dims, float base, int interleaved,
                                int inverse, const int* posp) {
  int half = dims / 2, off = posp ? *posp : 0;
  GRID_STRIDE(i, (u64)B * T * H * hd) {
    u64 row = i / hd; int c = (int)(i % hd); int t = (int)((row / H) % T) + off;
    const float* xr = x + row * hd; float* yr = y + row * hd;
    if (c >= dims) { yr[c] = xr[c]; continue; }
    int j, i1, i2; bool first;
    if (interleaved) { j = c / 2; i1 = 2 * j; i2 = 2 * j + 1; first = (c % 2) == 0; }
    else { j = c < half ? c : c - half; i1 = j; i2 = j + half; first = c < half; }
    double theta = (double)t * pow((double)base, -2.0 * j / dims);
    float cs = (float)cos(theta), sn = (float)sin(theta);
    if (inverse) sn = -sn;
    float x1 = xr[i1], x2 = xr[i2];
    yr[c] = first ? x1 * cs - x2 * sn : x1 * sn + x2 * cs;
  }
}
extern "C" __global__ void dropout_k(const float* x, float* y, u64 n, const int* seedp, int salt, float p) {
  u32 thr = (u32)llrint((double)p * 16777216.0);
  float s = 1.f / (1.f - p); int seed = *seedp;
  GRID_STRIDE(i, n) y[i] = keep(seed, salt, i, thr) ? x[i] * s : 0.f;
}

// ---- loss: one block per row; per-row losses then a mean ----
extern "C" __global__ void xent_rows(const float* logits, const int* targets, float* rowLoss, int V) {
  __shared__ float sh[32];
  u64 r = blockIdx.x; const float* l = logits + r * V;
  float mx = -INFINITY; for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, l[j]);
  mx = block_max(mx, sh);
  float s = 0.f; for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(l[j] - mx);
  s = block_sum(s, sh);
  if (threadIdx.x == 0) rowLoss[r] = mx + logf(s) - l[targets[r]];
}
extern "C" __global__ void mean_k(const float* x, float* out, u64 n) {
  __shared__ float sh[32];
  double s = 0.0;
  for (u64 i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  float t = block_sum((float)s, sh);
  if (threadIdx.x == 0) out[0] = t / (float)n;
}
extern "C" __global__ void xent_grad(const float* logits, const int* targets, const float* dloss, float* dl, u64 rows, int V) {
  __shared__ float sh[32];
  u64 r = blockIdx.x; const float* l = logits + r * V; float* g = dl + r * V;
  float mx = -INFINITY; for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, l[j]);
  mx = block_max(mx, sh);
  float s = 0.f; for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(l[j] - mx);
  s = block_sum(s, sh);
  float scale = dloss[0] / (float)rows, lse = mx + logf(s);
  int t = targets[r];
  for (int j = threadIdx.x; j < V; j += blockDim.x) g[j] = (expf(l[j] - lse) - (j == t ? 1.f : 0.f)) * scale;
}

// ---- reductions for norms and clipping; acc is a double ----
extern "C" __global__ void sumsq_acc(const float* x, u64 n, double* acc) {
  __shared__ float sh[32];
  float s = 0.f;
  GRID_STRIDE(i, n) s += x[i] * x[i];
  s = block_sum(s, sh);
  if (threadIdx.x == 0) atomicAdd(acc, (double)s);
}
extern "C" __global__ void zero_d(double* acc) { acc[0] = 0.0; }
extern "C" __global__ void sumsq_out(const double* acc, float* out) { out[0] = (float)acc[0]; }
extern "C" __global__ void clip_coef(const double* acc, float* norm, float* coef, float maxNorm) {
  float n = (float)sqrt(acc[0]);
  norm[0] = n;
  coef[0] = maxNorm > 0.f ? fminf(1.f, maxNorm / (n + 1e-6f)) : 1.f;
}

// ---- optimizers: scalars read from device memory so a captured graph replays with new values ----
extern "C" __global__ void adamw(float* p, const float* g, float* m, float* v, u64 n, const float* lrp, const float* stepp,
                                 const float* gsp, float b1, float b2, float eps, float wd) {
  float lr = *lrp, step = *stepp, gs = *gsp;
  float bc1 = 1.f - powf(b1, step), bc2 = 1.f - powf(b2, step);
  float stepSize = lr / bc1, bc2s = sqrtf(bc2);
  GRID_STRIDE(i, n) {
    float gi = g[i] * gs;
    float pi = p[i] * (1.f - lr * wd);
    float mi = m[i] + (gi - m[i]) * (1.f - b1);
    float vi = v[i] * b2 + (1.f - b2) * gi * gi;
    m[i] = mi; v[i] = vi;
    p[i] = pi - stepSize * mi / (sqrtf(vi) / bc2s + eps);
  }
}
extern "C" __global__ void sgd(float* p, const float* g, float* buf, u64 n, const float* lrp, const float* gsp, float mom, float wd) {
  float lr = *lrp, gs = *gsp;
  GRID_STRIDE(i, n) {
    float d = g[i] * gs + wd * p[i];
    float b = mom * buf[i] + d;
    buf[i] = b; p[i] -= lr * b;
  }
}
// ---- Muon pieces: Nesterov momentum (buffer in place), Frobenius normalisation, descent ----
extern "C" __global__ void nesterov(float* buf, const float* g, float* u, u64 n, const float* mup, const float* gsp) {
  float mu = *mup, gs = *gsp;
  GRID_STRIDE(i, n) {
    float gi = g[i] * gs;
    float b = mu * buf[i] + gi;
    buf[i] = b; u[i] = gi + mu * b;
  }
}
extern "C" __global__ void frob_scale(const float* x, float* y, u64 n, const double* acc, float eps) {
  float inv = (float)(1.0 / (sqrt(acc[0]) + (double)eps));
  GRID_STRIDE(i, n) y[i] = x[i] * inv;
}
extern "C" __global__ void descend(float* p, const float* u, u64 n, const float* lrp, float scale, float wd) {
  float lr = *lrp;
  float decay = 1.f - lr * wd, step = lr * scale;
  GRID_STRIDE(i, n) p[i] = p[i] * decay - step * u[i];
}

// ---- tiled causal attention for head_dim 32 or 64 (flash-style, float32 SIMT) ----
// One thread owns one query row (or, in the dk/dv kernel, one key row) and keeps its accumulators in
// registers; tiles of 64 rows of the other operand are staged in shared memory (rows padded by one
// float so a thread walking its own row never conflicts with its neighbours) and read by all
// threads at the same address (broadcast). Softmax is online (running max and sum), so no score
// matrix is ever stored. Same semantics and dropout mask as attention_fwd/attention_bwd_*; with a sliding
// window (window > 0) the key-tile ranges shrink to the tiles the window reaches; a logit softcap
// (softcap > 0) maps each scaled score s to softcap·tanh(s/softcap), and ds gets the factor 1 − tanh²;
// ALiBi (alibi != 0) then subtracts slope_h·(i − j) (no gradient).
#define FT 64
template <int HD>
__device__ void flash_fwd_t(const float* q, const float* k, const float* v, float* out, int T, int H, int KV, float scale,
                            float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  extern __shared__ float fsm[];
  float* Ks = fsm;                     // [FT][HD+1]
  float* Vs = fsm + FT * (HD + 1);     // [FT][HD]
  int bh = blockIdx.y, b = bh / H, h = bh % H, kh = h / (H / KV);
  int i = blockIdx.x * FT + threadIdx.x;
  bool live = i < T;
  float qr[HD], acc[HD];
  const float* qp = q + (((u64)b * T + (live ? i : 0)) * H + h) * HD;
  #pragma unroll
  for (int c = 0; c < HD; c++) { qr[c] = qp[c] * scale; acc[c] = 0.f; }
  float m = -INFINITY, l = 0.f;
  u32 thr = (u32)llrint((double)dropout * 16777216.0);
  float ks = dropout > 0.f ? 1.f / (1.f - dropout) : 1.f;
  int seed = dropout > 0.f ? *seedp : 0;
  int lastTile = blockIdx.x;           // causal: key tiles 0..this query tile
  // sliding window: from the tile of the first query's first key; each row from its own first key
  int firstTile = window > 0 ? max(0, (int)blockIdx.x * FT - window + 1) / FT : 0;
  int lo = win_lo(i, window);
  float sl = alibi_slope(alibi, h, H);
  for (int kt = firstTile; kt <= lastTile; kt++) {
    __syncthreads();
    for (int e = threadIdx.x; e < FT * HD; e += blockDim.x) {
      int r = e / HD, c = e % HD, j = kt * FT + r;
      float kvv = 0.f, vvv = 0.f;
      if (j < T) { u64 o = (((u64)b * T + j) * KV + kh) * HD + c; kvv = k[o]; vvv = v[o]; }
      Ks[r * (HD + 1) + c] = kvv; Vs[r * HD + c] = vvv;
    }
    __syncthreads();
    if (!live) continue;
    int jmax = min(FT - 1, i - kt * FT);
    for (int r = max(0, lo - kt * FT); r <= jmax; r++) {
      const float* kr = Ks + r * (HD + 1);
      float s = 0.f;
      #pragma unroll
      for (int c = 0; c < HD; c++) s += qr[c] * kr[c];
      s = soft_cap(s, softcap) - sl * (float)(i - kt * FT - r);   // qr is pre-scaled: s is the scaled score; ALiBi after the cap
      if (s > m) {
        float f = expf(m - s);
        l *= f;
        #pragma unroll
        for (int c = 0; c < HD; c++) acc[c] *= f;
        m = s;
      }
      float p = expf(s - m);
      l += p;
      if (dropout > 0.f) p = keep(seed, salt, (((u64)b * H + h) * T + i) * T + kt * FT + r, thr) ? p * ks : 0.f;
      const float* vr = Vs + r * HD;
      #pragma unroll
      for (int c = 0; c < HD; c++) acc[c] += p * vr[c];
    }
  }
  if (!live) return;
  float inv = 1.f / l;
  float* o = out + (((u64)b * T + i) * H + h) * HD;
  #pragma unroll
  for (int c = 0; c < HD; c++) o[c] = acc[c] * inv;
}
extern "C" __global__ void __launch_bounds__(FT) flash_fwd_64(const float* q, const float* k, const float* v, float* out, int T, int H,
    int KV, float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  flash_fwd_t<64>(q, k, v, out, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }
extern "C" __global__ void __launch_bounds__(FT) flash_fwd_32(const float* q, const float* k, const float* v, float* out, int T, int H,
    int KV, float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  flash_fwd_t<32>(q, k, v, out, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }

// Backward kernels: two threads share a row (the pair splits head_dim; dots are summed with one
// shuffle), so the per-thread accumulators are HD/2 floats and stay in registers.
#define PAIR_MASK (3u << ((threadIdx.x & 31) & ~1u))
__device__ __forceinline__ float pair_sum(float x) { return x + __shfl_xor_sync(PAIR_MASK, x, 1); }

// Backward, per query row: pass 1 finds the log-sum-exp; pass 2 accumulates D = sum p·dp,
// A = sum p·dp·f·k and S = sum p·f·k (f the softcap's derivative, 1 without), so dq = scale·(A − D·S). Writes dq and (lse, D) for the key pass.
template <int HD>
__device__ void flash_bwd_q_t(const float* q, const float* k, const float* v, const float* dy, float* dq, float* lseD, int T, int H,
                              int KV, float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  constexpr int HH = HD / 2;
  extern __shared__ float fsm[];
  float* Ks = fsm;                     // [FT][HD+1]
  float* Vs = fsm + FT * (HD + 1);     // [FT][HD+1]
  int bh = blockIdx.y, b = bh / H, h = bh % H, kh = h / (H / KV);
  int row = threadIdx.x >> 1, c0 = (threadIdx.x & 1) * HH;
  int i = blockIdx.x * FT + row;
  bool live = i < T;
  float qr[HH], gr[HH], A[HH], S[HH];
  const float* qp = q + (((u64)b * T + (live ? i : 0)) * H + h) * HD + c0;
  const float* gp = dy + (((u64)b * T + (live ? i : 0)) * H + h) * HD + c0;
  #pragma unroll
  for (int c = 0; c < HH; c++) { qr[c] = qp[c] * scale; gr[c] = gp[c]; A[c] = 0.f; S[c] = 0.f; }
  u32 thr = (u32)llrint((double)dropout * 16777216.0);
  float ksc = dropout > 0.f ? 1.f / (1.f - dropout) : 1.f;
  int seed = dropout > 0.f ? *seedp : 0;
  float m = -INFINITY, l = 0.f, D = 0.f;
  int firstTile = window > 0 ? max(0, (int)blockIdx.x * FT - window + 1) / FT : 0;   // as flash_fwd_t
  int lo = win_lo(i, window);
  float sl = alibi_slope(alibi, h, H);
  for (int pass = 0; pass < 2; pass++) {
    float lse = m + logf(l);
    for (int kt = firstTile; kt <= (int)blockIdx.x; kt++) {
      __syncthreads();
      for (int e = threadIdx.x; e < FT * HD; e += blockDim.x) {
        int r = e / HD, c = e % HD, j = kt * FT + r;
        float kvv = 0.f, vvv = 0.f;
        if (j < T) { u64 o = (((u64)b * T + j) * KV + kh) * HD + c; kvv = k[o]; vvv = v[o]; }
        Ks[r * (HD + 1) + c] = kvv; Vs[r * (HD + 1) + c] = vvv;
      }
      __syncthreads();
      if (!live) continue;
      int jmax = min(FT - 1, i - kt * FT);
      for (int r = max(0, lo - kt * FT); r <= jmax; r++) {
        const float* kr = Ks + r * (HD + 1) + c0;
        float s = 0.f;
        #pragma unroll
        for (int c = 0; c < HH; c++) s += qr[c] * kr[c];
        s = soft_cap(pair_sum(s), softcap);   // qr is pre-scaled
        float sb = s - sl * (float)(i - kt * FT - r);   // ALiBi after the cap; f below uses the capped s
        if (pass == 0) {
          if (sb > m) { l *= expf(m - sb); m = sb; }
          l += expf(sb - m);
        } else {
          float p = expf(sb - lse);
          const float* vr = Vs + r * (HD + 1) + c0;
          float g = 0.f;
          #pragma unroll
          for (int c = 0; c < HH; c++) g += gr[c] * vr[c];
          g = pair_sum(g);
          float mk = dropout > 0.f ? (keep(seed, salt, (((u64)b * H + h) * T + i) * T + kt * FT + r, thr) ? ksc : 0.f) : 1.f;
          float pdp = p * g * mk, f = soft_cap_grad(s, softcap);   // ds = p·(dp − D)·f·scale
          D += pdp;
          float pdpf = pdp * f, pf = p * f;
          #pragma unroll
          for (int c = 0; c < HH; c++) { A[c] += pdpf * kr[c]; S[c] += pf * kr[c]; }
        }
      }
    }
  }
  if (!live) return;
  float* dqr = dq + (((u64)b * T + i) * H + h) * HD + c0;
  #pragma unroll
  for (int c = 0; c < HH; c++) dqr[c] = scale * (A[c] - D * S[c]);
  if (c0 == 0) { u64 r = (((u64)b * H + h) * T + i) * 2; lseD[r] = m + logf(l); lseD[r + 1] = D; }
}
extern "C" __global__ void __launch_bounds__(2 * FT) flash_bwd_q_64(const float* q, const float* k, const float* v, const float* dy, float* dq,
    float* lseD, int T, int H, int KV, float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  flash_bwd_q_t<64>(q, k, v, dy, dq, lseD, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }
extern "C" __global__ void __launch_bounds__(2 * FT) flash_bwd_q_32(const float* q, const float* k, const float* v, const float* dy, float* dq,
    float* lseD, int T, int H, int KV, float scale, float dropout, int salt, const int* seedp, int window, float softcap, int alibi) {
  flash_bwd_q_t<32>(q, k, v, dy, dq, lseD, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }

// Backward, per key row j of kv head kh: over the group's query heads and query tiles from j's tile
// on, dk = sum ds·q and dv = sum p·m·dy, with p and ds rebuilt from (lse, D).
template <int HD>
__device__ void flash_bwd_kv_t(const float* q, const float* k, const float* v, const float* dy, const float* lseD, float* dk, float* dv,
                               int T, int H, int KV, float scale, float dropout, int salt, const int* seedp, int window,
                               float softcap, int alibi) {
  constexpr int HH = HD / 2;
  extern __shared__ float fsm[];
  float* Qs = fsm;                     // [FT][HD+1]
  float* Gs = fsm + FT * (HD + 1);     // [FT][HD+1]
  float* Ls = Gs + FT * (HD + 1);      // [FT][2]
  int bk = blockIdx.y, b = bk / KV, kh = bk % KV, group = H / KV;
  int row = threadIdx.x >> 1, c0 = (threadIdx.x & 1) * HH;
  int j = blockIdx.x * FT + row;
  bool live = j < T;
  float kr[HH], vr[HH], adk[HH], adv[HH];
  u64 ko = (((u64)b * T + (live ? j : 0)) * KV + kh) * HD + c0;
  #pragma unroll
  for (int c = 0; c < HH; c++) { kr[c] = k[ko + c] * scale; vr[c] = v[ko + c]; adk[c] = 0.f; adv[c] = 0.f; }
  u32 thr = (u32)llrint((double)dropout * 16777216.0);
  float ksc = dropout > 0.f ? 1.f / (1.f - dropout) : 1.f;
  int seed = dropout > 0.f ? *seedp : 0;
  int nt = (T + FT - 1) / FT;
  // sliding window: key j is seen by queries j <= i < j + window, so only the tiles up to that of the
  // last key row's last query
  int qtEnd = window > 0 ? min(nt, ((int)blockIdx.x * FT + FT - 1 + window - 1) / FT + 1) : nt;
  int iEnd = window > 0 ? min(T, j + window) : T;
  for (int hh = 0; hh < group; hh++) {
    int h = kh * group + hh;
    float sl = alibi_slope(alibi, h, H);
    for (int qt = blockIdx.x; qt < qtEnd; qt++) {
      __syncthreads();
      for (int e = threadIdx.x; e < FT * HD; e += blockDim.x) {
        int r = e / HD, c = e % HD, i = qt * FT + r;
        float qq = 0.f, gg = 0.f;
        if (i < T) { u64 o = (((u64)b * T + i) * H + h) * HD + c; qq = q[o]; gg = dy[o]; }
        Qs[r * (HD + 1) + c] = qq; Gs[r * (HD + 1) + c] = gg;
      }
      for (int r = threadIdx.x; r < FT; r += blockDim.x) {
        int i = qt * FT + r;
        u64 o = (((u64)b * H + h) * T + (i < T ? i : 0)) * 2;
        Ls[2 * r] = lseD[o]; Ls[2 * r + 1] = lseD[o + 1];
      }
      __syncthreads();
      if (!live) continue;
      int r0 = max(0, j - qt * FT), r1 = min(FT, iEnd - qt * FT);
      for (int r = r0; r < r1; r++) {
        const float* qrow = Qs + r * (HD + 1) + c0;
        const float* grow = Gs + r * (HD + 1) + c0;
        float s = 0.f, g = 0.f;
        #pragma unroll
        for (int c = 0; c < HH; c++) { s += qrow[c] * kr[c]; g += grow[c] * vr[c]; }
        s = soft_cap(pair_sum(s), softcap); g = pair_sum(g);   // kr is pre-scaled
        int i = qt * FT + r;
        float p = expf(s - sl * (float)(i - j) - Ls[2 * r]);
        float mk = dropout > 0.f ? (keep(seed, salt, (((u64)b * H + h) * T + i) * T + j, thr) ? ksc : 0.f) : 1.f;
        float ds = p * (g * mk - Ls[2 * r + 1]) * scale * soft_cap_grad(s, softcap);
        float pm = p * mk;
        #pragma unroll
        for (int c = 0; c < HH; c++) { adk[c] += ds * qrow[c]; adv[c] += pm * grow[c]; }
      }
    }
  }
  if (!live) return;
  #pragma unroll
  for (int c = 0; c < HH; c++) { dk[ko + c] = adk[c]; dv[ko + c] = adv[c]; }
}
extern "C" __global__ void __launch_bounds__(2 * FT) flash_bwd_kv_64(const float* q, const float* k, const float* v, const float* dy,
    const float* lseD, float* dk, float* dv, int T, int H, int KV, float scale, float dropout, int salt, const int* seedp,
    int window, float softcap, int alibi) {
  flash_bwd_kv_t<64>(q, k, v, dy, lseD, dk, dv, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }
extern "C" __global__ void __launch_bounds__(2 * FT) flash_bwd_kv_32(const float* q, const float* k, const float* v, const float* dy,
    const float* lseD, float* dk, float* dv, int T, int H, int KV, float scale, float dropout, int salt, const int* seedp,
    int window, float softcap, int alibi) {
  flash_bwd_kv_t<32>(q, k, v, dy, lseD, dk, dv, T, H, KV, scale, dropout, salt, seedp, window, softcap, alibi); }

// ---- recurrent mixers: causal depthwise conv, gated delta rule, SSD ----
// The scans run one block per (sequence, head) and loop over time inside the kernel: one launch
// per op, never one per token.

// y[b,t,c] = sum_j w[c,j] x[b,t-K+1+j,c]; rows before 0 from the decode state st[B,K-1,C] (pos > 0) or 0.
extern "C" __global__ void causal_conv(const float* x, const float* w, float* y, const float* st, const int* posp,
                                       int B, int T, int C, int K) {
  int pos = posp ? *posp : 0;
  GRID_STRIDE(i, (u64)B * T * C) {
    int c = (int)(i % C);
    u64 row = i / C;
    int t = (int)(row % T), b = (int)(row / T);
    float acc = 0.f;
    for (int j = 0; j < K; j++) {
      int src = t - K + 1 + j;
      float xv = src >= 0 ? x[((u64)b * T + src) * C + c] : (st && pos > 0 ? st[((u64)b * (K - 1) + K - 1 + src) * C + c] : 0.f);
      acc += w[c * K + j] * xv;
    }
    y[i] = acc;
  }
}
// Advances the decode state in place after causal_conv: one thread per (b, c) walks the K-1 rows in order.
extern "C" __global__ void causal_conv_state(const float* x, float* st, const int* posp, int B, int T, int C, int K) {
  int pos = *posp;
  GRID_STRIDE(i, (u64)B * C) {
    int c = (int)(i % C), b = (int)(i / C);
    for (int r = 0; r < K - 1; r++) {
      int src = T - (K - 1) + r;
      float v = src >= 0 ? x[((u64)b * T + src) * C + c] : (pos > 0 ? st[((u64)b * (K - 1) + T + r) * C + c] : 0.f);
      st[((u64)b * (K - 1) + r) * C + c] = v;
    }
  }
}
extern "C" __global__ void causal_conv_dx(const float* w, const float* dy, float* dx, int B, int T, int C, int K) {
  GRID_STRIDE(i, (u64)B * T * C) {
    int c = (int)(i % C);
    u64 row = i / C;
    int t = (int)(row % T), b = (int)(row / T);
    float acc = 0.f;
    for (int j = 0; j < K; j++) {
      int dst = t + K - 1 - j;
      if (dst < T) acc += w[c * K + j] * dy[((u64)b * T + dst) * C + c];
    }
    dx[i] = acc;
  }
}
// dw in two deterministic stages. Stage 1: block (channel tile of 32, row part) with threads (32 channels x 8
// row lanes) reads rows coalesced and writes, per part, the K partial sums of its 32 channels (lanes added in order).
#define CONV_MAXK 16
extern "C" __global__ void causal_conv_dw_part(const float* x, const float* dy, float* part, int B, int T, int C, int K,
                                               int rowsPerPart) {
  __shared__ float sh[8][32][CONV_MAXK];
  int cl = threadIdx.x & 31, lane = threadIdx.x >> 5, c = blockIdx.x * 32 + cl;
  u64 rows = (u64)B * T, r0 = (u64)blockIdx.y * rowsPerPart, r1 = min(rows, r0 + rowsPerPart);
  float acc[CONV_MAXK];
  for (int j = 0; j < K; j++) acc[j] = 0.f;
  if (c < C) {
    for (u64 r = r0 + lane; r < r1; r += 8) {
      int t = (int)(r % T);
      float g = dy[r * C + c];
      for (int j = 0; j < K; j++) {
        int src = t - K + 1 + j;
        if (src >= 0) acc[j] += g * x[(r - (t - src)) * C + c];
      }
    }
  }
  for (int j = 0; j < K; j++) sh[lane][cl][j] = acc[j];
  __syncthreads();
  if (lane == 0 && c < C) {
    for (int j = 0; j < K; j++) {
      float s = 0.f;
      for (int l = 0; l < 8; l++) s += sh[l][cl][j];
      part[(u64)blockIdx.y * C * K + (u64)c * K + j] = s;
    }
  }
}
// Stage 2: dw[i] = sum over parts, in part order.
extern "C" __global__ void causal_conv_dw_sum(const float* part, float* dw, int n, int parts) {
  GRID_STRIDE(i, n) {
    float s = 0.f;
    for (int p = 0; p < parts; p++) s += part[(u64)p * n + i];
    dw[i] = s;
  }
}

// Gated delta rule. Columns of the state S[dk,dv] evolve independently (column j needs only k, q, v_j, g, beta),
// so a block takes GDN_COLS columns of one (b, h): 16 lanes per column, lane ig holding rows ig, ig+16, ... of
// that column in registers (dk <= 16*GDN_MAXR); column sums are 16-lane shuffles. No shared memory, no barriers.
#define GDN_LANES 16
#define GDN_COLS 8
#define GDN_MAXR 16
__device__ __forceinline__ float lanes16_sum(float v) {
  for (int o = GDN_LANES / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
// One token on a register column slice: S = e^g S + k (beta (v_j - e^g Sᵀk));  returns nothing, updates Sr.
__device__ __forceinline__ void gdn_step_reg(float* Sr, const float* kr, float vj, float a, float bt, int ig, int dk) {
  float kS = 0.f;
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) kS += Sr[s] * kr[i]; }
  kS = lanes16_sum(kS);
  float u = bt * (vj - a * kS);
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) Sr[s] = a * Sr[s] + kr[i] * u; }
}

// Forward; grid (b, h, column block). st (decode) is the state [B,H,dk,dv]: read at the start when pos > 0,
// written at the end.
extern "C" __global__ void __launch_bounds__(GDN_LANES * GDN_COLS) gdn_fwd(const float* q, const float* k, const float* v,
    const float* g, const float* beta, float* o, float* st, const int* posp, int T, int H, int dk, int dv) {
  int ncb = (dv + GDN_COLS - 1) / GDN_COLS, bh = blockIdx.x / ncb, cb = blockIdx.x % ncb, b = bh / H, h = bh % H;
  int ig = threadIdx.x % GDN_LANES, j = cb * GDN_COLS + threadIdx.x / GDN_LANES;
  bool col = j < dv;
  int pos = posp ? *posp : 0;
  u64 m = (u64)dk * dv;
  float Sr[GDN_MAXR];
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; Sr[s] = (st && pos > 0 && col && i < dk) ? st[bh * m + (u64)i * dv + j] : 0.f; }
  for (int t = 0; t < T; t++) {
    u64 r = ((u64)b * T + t) * H + h;
    const float* kr = k + r * dk;
    const float* qr = q + r * dk;
    gdn_step_reg(Sr, kr, col ? v[r * dv + j] : 0.f, expf(g[r]), beta[r], ig, dk);
    float acc = 0.f;
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) acc += Sr[s] * qr[i]; }
    acc = lanes16_sum(acc);
    if (col && ig == 0) o[r * dv + j] = col ? acc : 0.f;
  }
  if (st && col) {
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) st[bh * m + (u64)i * dv + j] = Sr[s]; }
  }
}

// Backward; grid (b, h, column block). work (global, per (b, h)): chunk-start checkpoints [nc][dk*dv], then the
// states of one chunk [L+1][dk*dv]; each thread touches only its own elements. The adjoint dS of the block's
// columns lives in registers. Row sums over columns (dq, dk) and the scalar sums (dg, dbeta) are added over the
// block's columns in shared memory, in column order, and written per column block to part; gdn_bwd_sum adds the
// column blocks in order.
extern "C" __global__ void __launch_bounds__(GDN_LANES * GDN_COLS) gdn_bwd(const float* q, const float* k, const float* v,
    const float* g, const float* beta, const float* dO, float* dv_, float* work, float* part, int B, int T, int H, int dk,
    int dv, int L) {
  extern __shared__ float sm[];
  float* rq = sm;                              // [GDN_COLS][dk]
  float* rk = rq + GDN_COLS * dk;              // [GDN_COLS][dk]
  float* rg = rk + GDN_COLS * dk;              // [GDN_COLS]
  float* rb = rg + GDN_COLS;                   // [GDN_COLS]
  int ncb = (dv + GDN_COLS - 1) / GDN_COLS, bh = blockIdx.x / ncb, cb = blockIdx.x % ncb, b = bh / H, h = bh % H;
  int ig = threadIdx.x % GDN_LANES, jl = threadIdx.x / GDN_LANES, j = cb * GDN_COLS + jl;
  bool col = j < dv;
  int nc = (T + L - 1) / L;
  u64 m = (u64)dk * dv, rows = (u64)B * T * H;
  float* ck = work + (u64)bh * (nc + L + 1) * m;
  float* sts = ck + nc * m;
  float* pq = part + (u64)cb * rows * (2 * dk + 2);    // per column block: dq [rows][dk], dk [rows][dk], dg [rows], dbeta [rows]
  float* pk = pq + rows * dk;
  float* pg = pk + rows * dk;
  float* pb = pg + rows;
  float Sr[GDN_MAXR], dS[GDN_MAXR];
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) Sr[s] = 0.f;
  for (int t = 0; t < T; t++) {                // checkpoints: ck[c] = the state before chunk c
    u64 r = ((u64)b * T + t) * H + h;
    if (t % L == 0 && col) {
      float* dst = ck + (u64)(t / L) * m;
#pragma unroll
      for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) dst[(u64)i * dv + j] = Sr[s]; }
    }
    gdn_step_reg(Sr, k + r * dk, col ? v[r * dv + j] : 0.f, expf(g[r]), beta[r], ig, dk);
  }
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) dS[s] = 0.f;
  for (int c = nc - 1; c >= 0; c--) {
    int t0 = c * L, len = min(L, T - t0);
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; Sr[s] = (col && i < dk) ? ck[(u64)c * m + (u64)i * dv + j] : 0.f; }
    for (int i2 = 0; i2 <= len; i2++) {        // sts[i2] = the state after i2 tokens of the chunk
      if (col) {
#pragma unroll
        for (int s = 0; s < GDN_MAXR; s++) { int i = ig + GDN_LANES * s; if (i < dk) sts[(u64)i2 * m + (u64)i * dv + j] = Sr[s]; }
      }
      if (i2 == len) break;
      u64 r = ((u64)b * T + t0 + i2) * H + h;
      gdn_step_reg(Sr, k + r * dk, col ? v[r * dv + j] : 0.f, expf(g[r]), beta[r], ig, dk);
    }
    for (int i2 = len - 1; i2 >= 0; i2--) {
      u64 r = ((u64)b * T + t0 + i2) * H + h;
      const float* prev = sts + (u64)i2 * m;
      const float* cur = prev + m;
      const float* kr = k + r * dk;
      const float* qr = q + r * dk;
      float a = expf(g[r]), bt = beta[r], doj = col ? dO[r * dv + j] : 0.f, vj = col ? v[r * dv + j] : 0.f;
      float Sp[GDN_MAXR];
      float kS = 0.f, du = 0.f;
#pragma unroll
      for (int s = 0; s < GDN_MAXR; s++) {
        int i = ig + GDN_LANES * s;
        Sp[s] = (col && i < dk) ? a * prev[(u64)i * dv + j] : 0.f;
        if (i < dk) {
          dS[s] += qr[i] * doj;
          kS += Sp[s] * kr[i];
          du += dS[s] * kr[i];
        }
      }
      kS = lanes16_sum(kS);
      du = lanes16_sum(du);
      float resid = vj - kS, u = bt * resid, w = bt * du, dgp = 0.f;
      if (col && ig == 0) dv_[r * dv + j] = w;
#pragma unroll
      for (int s = 0; s < GDN_MAXR; s++) {
        int i = ig + GDN_LANES * s;
        if (i < dk) {
          rq[jl * dk + i] = col ? cur[(u64)i * dv + j] * doj : 0.f;
          rk[jl * dk + i] = dS[s] * u - Sp[s] * w;
          float d = dS[s] - kr[i] * w;
          dgp += Sp[s] * d;
          dS[s] = a * d;
        }
      }
      dgp = lanes16_sum(dgp);
      if (ig == 0) { rg[jl] = dgp; rb[jl] = du * resid; }
      __syncthreads();
      for (int i = threadIdx.x; i < dk; i += blockDim.x) {
        float sq = 0.f, sk = 0.f;
        for (int c2 = 0; c2 < GDN_COLS; c2++) { sq += rq[c2 * dk + i]; sk += rk[c2 * dk + i]; }
        pq[r * dk + i] = sq;
        pk[r * dk + i] = sk;
      }
      if (threadIdx.x == 0) {
        float sg = 0.f, sb = 0.f;
        for (int c2 = 0; c2 < GDN_COLS; c2++) { sg += rg[c2]; sb += rb[c2]; }
        pg[r] = sg;
        pb[r] = sb;
      }
      __syncthreads();
    }
  }
}
// dq, dk, dg, dbeta: the column blocks' partial sums added in order.
extern "C" __global__ void gdn_bwd_sum(const float* part, float* dq, float* dk_, float* dg, float* dbeta, u64 rows, int dk, int ncb) {
  u64 per = rows * (2 * (u64)dk + 2);
  GRID_STRIDE(i, per) {
    float s = 0.f;
    for (int c = 0; c < ncb; c++) s += part[(u64)c * per + i];
    if (i < rows * dk) dq[i] = s;
    else if (i < 2 * rows * dk) dk_[i - rows * dk] = s;
    else if (i < 2 * rows * dk + rows) dg[i - 2 * rows * dk] = s;
    else dbeta[i - 2 * rows * dk - rows] = s;
  }
}

// SSD. Rows p of the state h[P,N] evolve independently (row p needs only x_p, a, B, C), so a block takes SSD_ROWS
// rows of one (b, h): 16 lanes per row, lane ig holding entries ig, ig+16, ... of the row in registers
// (N <= 16*GDN_MAXR); row sums are 16-lane shuffles.
#define SSD_ROWS 32
// Forward; grid (b, h, row block). st (decode) is the state [B,H,P,N]: read at the start when pos > 0, written at the end.
extern "C" __global__ void __launch_bounds__(GDN_LANES * SSD_ROWS) ssd_fwd(const float* x, const float* a, const float* Bm,
    const float* C, float* y, float* st, const int* posp, int T, int H, int G, int P, int N) {
  int nrb = (P + SSD_ROWS - 1) / SSD_ROWS, bh = blockIdx.x / nrb, rb = blockIdx.x % nrb, b = bh / H, h = bh % H, grp = h / (H / G);
  int ig = threadIdx.x % GDN_LANES, p = rb * SSD_ROWS + threadIdx.x / GDN_LANES;
  bool row = p < P;
  int pos = posp ? *posp : 0;
  u64 m = (u64)P * N;
  float hr[GDN_MAXR];
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) { int n = ig + GDN_LANES * s; hr[s] = (st && pos > 0 && row && n < N) ? st[bh * m + (u64)p * N + n] : 0.f; }
  for (int t = 0; t < T; t++) {
    u64 r = ((u64)b * T + t) * H + h, gb = (((u64)b * T + t) * G + grp) * N;
    float dec = expf(a[r]), xp = row ? x[r * P + p] : 0.f, acc = 0.f;
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) {
      int n = ig + GDN_LANES * s;
      if (n < N) { hr[s] = dec * hr[s] + xp * Bm[gb + n]; acc += hr[s] * C[gb + n]; }
    }
    acc = lanes16_sum(acc);
    if (row && ig == 0) y[r * P + p] = acc;
  }
  if (st && row) {
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) { int n = ig + GDN_LANES * s; if (n < N) st[bh * m + (u64)p * N + n] = hr[s]; }
  }
}

// Backward; grid (b, h, row block). A forward pass gives per token the block's share of r_t = dy_t·y_t and of
// dC_t = h_tᵀdy_t; a reverse pass runs the adjoint rows dh_t = e^{a_{t+1}}dh_{t+1} + dy_t C_tᵀ for dx_t = dh_t B_t
// and the block's share of dB_t = dh_tᵀx_t and of q_t = x_t·dx_t. Shares are added over the block's rows in shared
// memory, in row order, and stored per row block: dBp, dCp [nrb][B,T,H,N], ep [nrb][B,T,H] (r - q).
// ssd_bwd_da turns ep into da_t = sum_{s>=t} (r_s - q_s); ssd_group_sum adds row blocks and the heads of a group.
extern "C" __global__ void __launch_bounds__(GDN_LANES * SSD_ROWS) ssd_bwd(const float* x, const float* a, const float* Bm,
    const float* C, const float* dy, float* dx, float* dBp, float* dCp, float* ep, int B, int T, int H, int G, int P, int N) {
  extern __shared__ float sm[];
  float* red = sm;                       // [SSD_ROWS][N]
  float* rs = red + SSD_ROWS * N;        // [SSD_ROWS]
  int nrb = (P + SSD_ROWS - 1) / SSD_ROWS, bh = blockIdx.x / nrb, rb = blockIdx.x % nrb, b = bh / H, h = bh % H, grp = h / (H / G);
  int ig = threadIdx.x % GDN_LANES, pl = threadIdx.x / GDN_LANES, p = rb * SSD_ROWS + pl;
  bool row = p < P;
  u64 rows = (u64)B * T * H;
  float* dB = dBp + (u64)rb * rows * N;
  float* dC = dCp + (u64)rb * rows * N;
  float* e = ep + (u64)rb * rows;
  float hr[GDN_MAXR];
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) hr[s] = 0.f;
  for (int t = 0; t < T; t++) {
    u64 r = ((u64)b * T + t) * H + h, gb = (((u64)b * T + t) * G + grp) * N;
    float dec = expf(a[r]), xp = row ? x[r * P + p] : 0.f, dyp = row ? dy[r * P + p] : 0.f, acc = 0.f;
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) {
      int n = ig + GDN_LANES * s;
      if (n < N) { hr[s] = dec * hr[s] + xp * Bm[gb + n]; acc += hr[s] * C[gb + n]; red[pl * N + n] = hr[s] * dyp; }
    }
    acc = lanes16_sum(acc);
    if (ig == 0) rs[pl] = acc * dyp;
    __syncthreads();
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
      float sc = 0.f;
      for (int k = 0; k < SSD_ROWS; k++) sc += red[k * N + n];
      dC[r * N + n] = sc;
    }
    if (threadIdx.x == 0) { float sr = 0.f; for (int k = 0; k < SSD_ROWS; k++) sr += rs[k]; e[r] = sr; }
    __syncthreads();
  }
#pragma unroll
  for (int s = 0; s < GDN_MAXR; s++) hr[s] = 0.f;      // now the adjoint rows dh
  float decNext = 0.f;
  for (int t = T - 1; t >= 0; t--) {
    u64 r = ((u64)b * T + t) * H + h, gb = (((u64)b * T + t) * G + grp) * N;
    float xp = row ? x[r * P + p] : 0.f, dyp = row ? dy[r * P + p] : 0.f, acc = 0.f;
#pragma unroll
    for (int s = 0; s < GDN_MAXR; s++) {
      int n = ig + GDN_LANES * s;
      if (n < N) { hr[s] = decNext * hr[s] + dyp * C[gb + n]; acc += hr[s] * Bm[gb + n]; red[pl * N + n] = hr[s] * xp; }
    }
    acc = lanes16_sum(acc);
    if (ig == 0) { if (row) dx[r * P + p] = acc; rs[pl] = xp * acc; }
    __syncthreads();
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
      float sb = 0.f;
      for (int k = 0; k < SSD_ROWS; k++) sb += red[k * N + n];
      dB[r * N + n] = sb;
    }
    if (threadIdx.x == 0) { float sq = 0.f; for (int k = 0; k < SSD_ROWS; k++) sq += rs[k]; e[r] -= sq; }
    __syncthreads();
    decNext = expf(a[r]);
  }
}
// da_t = sum over s >= t of the row blocks' (r_s - q_s), one thread per (b, h) walking back in time.
extern "C" __global__ void ssd_bwd_da(const float* ep, float* da, int B, int T, int H, int nrb) {
  u64 rows = (u64)B * T * H;
  GRID_STRIDE(i, (u64)B * H) {
    int b = (int)(i / H), h = (int)(i % H);
    float run = 0.f;
    for (int t = T - 1; t >= 0; t--) {
      u64 r = ((u64)b * T + t) * H + h;
      for (int k = 0; k < nrb; k++) run += ep[(u64)k * rows + r];
      da[r] = run;
    }
  }
}
// dB[b,t,g,n] = sum over the heads of group g, then the row blocks (in order), of dBp[rb][b,t,h,n]; the same for dC.
extern "C" __global__ void ssd_group_sum(const float* dBp, const float* dCp, float* dB, float* dC, u64 rows, int H, int G, int N,
                                         int nrb) {
  int hpg = H / G;
  u64 per = rows * H * N;
  GRID_STRIDE(i, rows * G * N) {
    int n = (int)(i % N);
    u64 rg = i / N;
    int g = (int)(rg % G);
    u64 row = rg / G;
    float sb = 0.f, sc = 0.f;
    for (int k = 0; k < hpg; k++) {
      u64 src = (row * H + g * hpg + k) * N + n;
      for (int q = 0; q < nrb; q++) { sb += dBp[q * per + src]; sc += dCp[q * per + src]; }
    }
    dB[i] = sb;
    dC[i] = sc;
  }
}
