package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.Shape;

/**
 * The recurrent mixers' ops in float64, token by token: the definition the chunked CPU kernels and
 * the CUDA scans are checked against. Backward passes keep every state (tiny test sizes).
 */
final class SsmScan {
    private SsmScan() {}

    // ---- causal depthwise convolution ----

    /** y (and, with a state, the state after the call written into {@code state}). */
    static double[] conv(Tensor x, double[] w, double[] state, int pos) {
        Shape s = x.shape();
        int bs = s.dim(0), t = s.dim(1), c = s.dim(2), k = w.length / c;
        double[] xv = x.f(), y = new double[xv.length];
        for (int b = 0; b < bs; b++) {
            for (int ti = 0; ti < t; ti++) {
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int j = 0; j < k; j++) acc += w[ch * k + j] * input(xv, state, pos, b, ti - k + 1 + j, ch, t, c, k);
                    y[(b * t + ti) * c + ch] = acc;
                }
            }
        }
        if (state != null) {
            double[] next = new double[state.length];
            for (int b = 0; b < bs; b++) {
                for (int r = 0; r < k - 1; r++) {
                    for (int ch = 0; ch < c; ch++) next[(b * (k - 1) + r) * c + ch] = input(xv, state, pos, b, t - (k - 1) + r, ch, t, c, k);
                }
            }
            System.arraycopy(next, 0, state, 0, next.length);
        }
        return y;
    }

    /** Input row {@code ti} of sequence b; rows before 0 come from the state (zeros without one or at pos 0). */
    private static double input(double[] x, double[] state, int pos, int b, int ti, int ch, int t, int c, int k) {
        if (ti >= 0) return x[(b * t + ti) * c + ch];
        if (state == null || pos == 0) return 0;
        return state[(b * (k - 1) + (k - 1 + ti)) * c + ch];
    }

    static Tensor[] convGrad(Tensor x, Tensor w, double[] dy) {
        Shape s = x.shape();
        int bs = s.dim(0), t = s.dim(1), c = s.dim(2), k = w.shape().dim(1);
        double[] dx = new double[x.f().length], dw = new double[w.f().length];
        for (int b = 0; b < bs; b++) {
            for (int ti = 0; ti < t; ti++) {
                for (int ch = 0; ch < c; ch++) {
                    double g = dy[(b * t + ti) * c + ch];
                    for (int j = 0; j < k; j++) {
                        int src = ti - k + 1 + j;
                        if (src < 0) continue;
                        dx[(b * t + src) * c + ch] += w.f()[ch * k + j] * g;
                        dw[ch * k + j] += x.f()[(b * t + src) * c + ch] * g;
                    }
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dx), Tensor.of(w.shape(), dw)};
    }

    // ---- gated delta rule ----

    /** o; with a state, starts from it (zeros at pos 0) and writes the final state back. */
    static double[] gatedDelta(Tensor q, double[] k, double[] v, double[] g, double[] beta, int dv, double[] state, int pos) {
        Shape s = q.shape();
        int bs = s.dim(0), t = s.dim(1), h = s.dim(2), dk = s.dim(3);
        double[] o = new double[bs * t * h * dv], st = new double[dk * dv], kS = new double[dv];
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                int so = (b * h + hh) * dk * dv;
                for (int e = 0; e < st.length; e++) st[e] = state != null && pos > 0 ? state[so + e] : 0;
                for (int ti = 0; ti < t; ti++) {
                    int r = (b * t + ti) * h + hh;
                    double a = Math.exp(g[r]);
                    for (int e = 0; e < st.length; e++) st[e] *= a;
                    java.util.Arrays.fill(kS, 0);
                    for (int i = 0; i < dk; i++) for (int j = 0; j < dv; j++) kS[j] += st[i * dv + j] * k[r * dk + i];
                    for (int i = 0; i < dk; i++) {
                        for (int j = 0; j < dv; j++) st[i * dv + j] += beta[r] * k[r * dk + i] * (v[r * dv + j] - kS[j]);
                    }
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += st[i * dv + j] * q.f()[r * dk + i];
                        o[r * dv + j] = acc;
                    }
                }
                if (state != null) System.arraycopy(st, 0, state, so, st.length);
            }
        }
        return o;
    }

    /** (dq, dk, dv, dg, dbeta) by the reverse recurrence over stored states. */
    static Tensor[] gatedDeltaGrad(Tensor[] in) {
        Shape s = in[0].shape();
        int bs = s.dim(0), t = s.dim(1), h = s.dim(2), dk = s.dim(3), dv = in[2].shape().dim(3);
        double[] q = in[0].f(), k = in[1].f(), v = in[2].f(), g = in[3].f(), beta = in[4].f(), dO = in[5].f();
        double[] dq = new double[q.length], dkk = new double[k.length], dvv = new double[v.length];
        double[] dg = new double[g.length], db = new double[beta.length];
        int m = dk * dv;
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                double[][] states = new double[t + 1][m];      // states[ti] = S after ti tokens
                for (int ti = 0; ti < t; ti++) {
                    int r = (b * t + ti) * h + hh;
                    double[] prev = states[ti], cur = states[ti + 1];
                    double a = Math.exp(g[r]);
                    double[] kS = readT(prev, k, r * dk, dk, dv, a);
                    for (int i = 0; i < dk; i++) {
                        for (int j = 0; j < dv; j++) cur[i * dv + j] = a * prev[i * dv + j] + beta[r] * k[r * dk + i] * (v[r * dv + j] - kS[j]);
                    }
                }
                double[] dS = new double[m];
                for (int ti = t - 1; ti >= 0; ti--) {
                    int r = (b * t + ti) * h + hh;
                    double[] prev = states[ti], cur = states[ti + 1];
                    double a = Math.exp(g[r]);
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) {
                            dS[i * dv + j] += q[r * dk + i] * dO[r * dv + j];
                            acc += cur[i * dv + j] * dO[r * dv + j];
                        }
                        dq[r * dk + i] = acc;
                    }
                    double[] kS = readT(prev, k, r * dk, dk, dv, a);       // (e^g S_{t-1})ᵀ k
                    double[] u = new double[dv], du = new double[dv];
                    for (int j = 0; j < dv; j++) u[j] = beta[r] * (v[r * dv + j] - kS[j]);
                    for (int i = 0; i < dk; i++) for (int j = 0; j < dv; j++) du[j] += dS[i * dv + j] * k[r * dk + i];
                    double dbeta = 0;
                    for (int j = 0; j < dv; j++) {
                        dbeta += du[j] * (v[r * dv + j] - kS[j]);
                        dvv[r * dv + j] = beta[r] * du[j];
                    }
                    db[r] = dbeta;
                    double dgr = 0;
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) {
                            double w = beta[r] * du[j];
                            acc += dS[i * dv + j] * u[j] - a * prev[i * dv + j] * w;
                            dS[i * dv + j] -= k[r * dk + i] * w;                 // dS' = dS - k wᵀ
                            dgr += a * prev[i * dv + j] * dS[i * dv + j];
                            dS[i * dv + j] *= a;                                 // dS_{t-1} = e^g dS'
                        }
                        dkk[r * dk + i] = acc;
                    }
                    dg[r] = dgr;
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dq), Tensor.of(s, dkk), Tensor.of(in[2].shape(), dvv), Tensor.of(in[3].shape(), dg),
                Tensor.of(in[4].shape(), db)};
    }

    /** {@code (a·S)ᵀ·k} for S [dk,dv] and k at {@code kOff}. */
    private static double[] readT(double[] st, double[] k, int kOff, int dk, int dv, double a) {
        double[] out = new double[dv];
        for (int i = 0; i < dk; i++) for (int j = 0; j < dv; j++) out[j] += a * st[i * dv + j] * k[kOff + i];
        return out;
    }

    // ---- SSD ----

    static double[] ssd(Tensor x, double[] a, Tensor bm, double[] c, double[] state, int pos) {
        Shape s = x.shape();
        int bs = s.dim(0), t = s.dim(1), h = s.dim(2), p = s.dim(3), gr = bm.shape().dim(2), n = bm.shape().dim(3);
        double[] xv = x.f(), bv = bm.f(), y = new double[xv.length], st = new double[p * n];
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                int grp = hh / (h / gr), so = (b * h + hh) * p * n;
                for (int e = 0; e < st.length; e++) st[e] = state != null && pos > 0 ? state[so + e] : 0;
                for (int ti = 0; ti < t; ti++) {
                    int r = (b * t + ti) * h + hh, gb = ((b * t + ti) * gr + grp) * n;
                    double dec = Math.exp(a[r]);
                    for (int i = 0; i < p; i++) {
                        double acc = 0;
                        for (int j = 0; j < n; j++) {
                            st[i * n + j] = dec * st[i * n + j] + xv[r * p + i] * bv[gb + j];
                            acc += st[i * n + j] * c[gb + j];
                        }
                        y[r * p + i] = acc;
                    }
                }
                if (state != null) System.arraycopy(st, 0, state, so, st.length);
            }
        }
        return y;
    }

    static Tensor[] ssdGrad(Tensor[] in) {
        Shape s = in[0].shape();
        int bs = s.dim(0), t = s.dim(1), h = s.dim(2), p = s.dim(3), gr = in[2].shape().dim(2), n = in[2].shape().dim(3);
        double[] x = in[0].f(), a = in[1].f(), bv = in[2].f(), c = in[3].f(), dy = in[4].f();
        double[] dx = new double[x.length], da = new double[a.length], dB = new double[bv.length], dC = new double[c.length];
        int m = p * n;
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                int grp = hh / (h / gr);
                double[][] states = new double[t + 1][m];
                for (int ti = 0; ti < t; ti++) {
                    int r = (b * t + ti) * h + hh, gb = ((b * t + ti) * gr + grp) * n;
                    double dec = Math.exp(a[r]);
                    for (int i = 0; i < p; i++) {
                        for (int j = 0; j < n; j++) states[ti + 1][i * n + j] = dec * states[ti][i * n + j] + x[r * p + i] * bv[gb + j];
                    }
                }
                double[] dh = new double[m];
                for (int ti = t - 1; ti >= 0; ti--) {
                    int r = (b * t + ti) * h + hh, gb = ((b * t + ti) * gr + grp) * n;
                    double[] cur = states[ti + 1], prev = states[ti];
                    for (int i = 0; i < p; i++) for (int j = 0; j < n; j++) {
                        dh[i * n + j] += dy[r * p + i] * c[gb + j];
                        dC[gb + j] += cur[i * n + j] * dy[r * p + i];
                    }
                    double dec = Math.exp(a[r]), dar = 0;
                    for (int i = 0; i < p; i++) {
                        double acc = 0;
                        for (int j = 0; j < n; j++) {
                            acc += dh[i * n + j] * bv[gb + j];
                            dB[gb + j] += dh[i * n + j] * x[r * p + i];
                            dar += dec * prev[i * n + j] * dh[i * n + j];
                        }
                        dx[r * p + i] = acc;
                    }
                    da[r] = dar;
                    for (int e = 0; e < m; e++) dh[e] *= dec;
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dx), Tensor.of(in[1].shape(), da), Tensor.of(in[2].shape(), dB), Tensor.of(in[3].shape(), dC)};
    }
}
