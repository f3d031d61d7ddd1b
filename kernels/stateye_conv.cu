// Statistical-eye convolution of two-point (three-point) cursors on the fine integer grid,
// one block per sampling phase, by direct shift-and-add (never FFT: the deep tails, 1e-27
// and below, keep full relative precision).
//
// For every column k (in the order of the plan), on the support window [lo_k, hi_k):
//   pmf <- w_k (shift(pmf, +q_k) + shift(pmf, -q_k)) + (1 - 2 w_k) pmf
// with q_k >= 0 the row's integer offset and w_k the probability of each nonzero outcome.
// numpy twin: sigint.timedomain.stateye._fine_distribution (same window plan, same
// arithmetic per element); the dispatch is sigint.gpu.ops.fine_distribution.
//
// The row's pmf lives in two ping-pong buffers: in shared memory when 2 * width values fit
// (use_shared), else in a global scratch of shape (P, 2, width).

#ifndef __CUDACC__
#include <math.h>
#define __host__
#define __device__
#endif

// ----------------------------------------------------------------------- per-element function
// new value at index i of the window [lo, hi) of buffer src, for offset qk and weight w
template <typename T>
__host__ __device__ inline T stateye_step(const T* src, long i, long lo, long hi, long qk, T w) {
    long j = i - lo;
    long last = hi - lo - 1;
    T up = (j >= qk) ? src[i - qk] : T(0);
    T dn = (j <= last - qk) ? src[i + qk] : T(0);
    return w * (up + dn) + (T(1) - T(2) * w) * src[i];
}

// ----------------------------------------------------------------------- device kernels
#ifdef __CUDACC__
#ifndef SIGINT_DYNAMIC_SHARED   // the tests' host emulation supplies its own buffer
#define SIGINT_DYNAMIC_SHARED(name) extern __shared__ unsigned char name[]
#endif
// q (P, R) int, w (P, R), steps: col[s], lo[s], hi[s] for s < n_steps; out (P, width)
// holds the initial pmf (a unit mass at the origin) and receives the result.
template <typename T>
__global__ void stateye_convolve(const long* __restrict__ q, const T* __restrict__ w, long r_cols,
                                 const long* __restrict__ col, const long* __restrict__ lo,
                                 const long* __restrict__ hi, long n_steps, long width,
                                 T* __restrict__ out, T* __restrict__ scratch, int use_shared) {
    SIGINT_DYNAMIC_SHARED(sigint_smem);
    long row = blockIdx.x;
    T* a;
    T* b;
    if (use_shared) {
        a = reinterpret_cast<T*>(sigint_smem);
        b = a + width;
    } else {
        a = scratch + row * 2 * width;
        b = a + width;
    }
    const T* src0 = out + row * width;
    for (long i = threadIdx.x; i < width; i += blockDim.x) {
        a[i] = src0[i];
        b[i] = src0[i];
    }
    __syncthreads();
    for (long s = 0; s < n_steps; ++s) {
        long k = col[s];
        long qk = q[row * r_cols + k];
        T wk = w[row * r_cols + k];
        long l0 = lo[s], h0 = hi[s];
        for (long i = l0 + threadIdx.x; i < h0; i += blockDim.x)
            b[i] = stateye_step(a, i, l0, h0, qk, wk);
        __syncthreads();
        T* t = a;
        a = b;
        b = t;
    }
    T* dst = out + row * width;
    for (long i = threadIdx.x; i < width; i += blockDim.x) dst[i] = a[i];
}

#ifdef SIGINT_INSTANTIATE
template __global__ void stateye_convolve<double>(const long*, const double*, long, const long*,
                                                  const long*, const long*, long, long, double*,
                                                  double*, int);
template __global__ void stateye_convolve<float>(const long*, const float*, long, const long*,
                                                 const long*, const long*, long, long, float*,
                                                 float*, int);
#endif
#endif

// ----------------------------------------------------------------------- host loops (tests)
#ifdef SIGINT_HOST_BUILD
#include <stdlib.h>
#include <string.h>
extern "C" {
// the kernel's algorithm, serially: out (P, width) holds the initial pmf
void host_stateye_convolve(const long* q, const double* w, long p, long r_cols, const long* col,
                           const long* lo, const long* hi, long n_steps, long width, double* out) {
    double* a = (double*)malloc(sizeof(double) * width);
    double* b = (double*)malloc(sizeof(double) * width);
    for (long row = 0; row < p; ++row) {
        memcpy(a, out + row * width, sizeof(double) * width);
        memcpy(b, out + row * width, sizeof(double) * width);
        for (long s = 0; s < n_steps; ++s) {
            long k = col[s];
            for (long i = lo[s]; i < hi[s]; ++i)
                b[i] = stateye_step(a, i, lo[s], hi[s], q[row * r_cols + k], w[row * r_cols + k]);
            double* t = a;
            a = b;
            b = t;
        }
        memcpy(out + row * width, a, sizeof(double) * width);
    }
    free(a);
    free(b);
}
}
#endif
