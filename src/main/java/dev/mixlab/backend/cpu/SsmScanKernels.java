package dev.mixlab.backend.cpu;

import java.util.Arrays;

/**
 * The recurrent mixers' scans ({@link dev.mixlab.ir.GatedDeltaScan}, {@link dev.mixlab.ir.SsdScan})
 * in their chunked form: within a chunk of {@link #CHUNK} tokens everything is a small dense
 * product over the chunk (the parallel form), and only the state crosses chunk boundaries. One task
 * per (sequence, head); scratch and the state are float64, so a chunked result differs from the
 * token-by-token reference only by float32 rounding of inputs and outputs.
 */
final class SsmScanKernels {
    private SsmScanKernels() {}

    /** Tokens per chunk. */
    static final int CHUNK = 64;

    /** Shapes of a gated-delta scan. */
    record Gdn(int bs, int t, int h, int dk, int dv) {}

    // ---- gated delta rule: forward (UT transform per chunk) ----

    /**
     * o from q,k [B,T,H,dk], v [B,T,H,dv], g, beta [B,T,H]; with {@code stOff >= 0} starts from the
     * state [B,H,dk,dv] (zeros at pos 0) and writes the final state there.
     */
    static void gatedDelta(float[] f, int qOff, int kOff, int vOff, int gOff, int bOff, int oOff, int stOff, int pos, Gdn d) {
        int m = d.dk * d.dv;
        Chunks.forRange(d.bs * d.h, 1, (from, to) -> {
            double[] st = Scratch.doubles(Scratch.A, m);
            double[] u = Scratch.doubles(Scratch.B, chunkScratch(d.dv));
            for (int task = from; task < to; task++) {
                int b = task / d.h, hh = task % d.h, so = stOff + task * m;
                for (int e = 0; e < m; e++) st[e] = stOff >= 0 && pos > 0 ? f[so + e] : 0;
                for (int t0 = 0; t0 < d.t; t0 += CHUNK) gdnChunk(f, qOff, kOff, vOff, gOff, bOff, oOff, b, hh, t0, Math.min(CHUNK, d.t - t0), d, st, u);
                if (stOff >= 0) for (int e = 0; e < m; e++) f[so + e] = (float) st[e];
            }
        });
    }

    /**
     * One chunk from state st (updated in place). With G the in-chunk cumulative log decay,
     * unrolling the recurrence gives u_i = β_i(v_i − e^{G_i} S0ᵀk_i) − Σ_{j<i} β_i e^{G_i−G_j}(k_i·k_j) u_j:
     * a unit lower-triangular system (I + A)U = R, solved by forward substitution (the UT transform).
     * Then o_i = e^{G_i} S0ᵀq_i + Σ_{j≤i} e^{G_i−G_j}(q_i·k_j) u_j and S = e^{G_L} S0 + Σ_j e^{G_L−G_j} k_j u_jᵀ.
     * With oOff < 0 only the state advances.
     */
    private static void gdnChunk(float[] f, int qOff, int kOff, int vOff, int gOff, int bOff, int oOff, int b, int hh, int t0, int len,
                                 Gdn d, double[] st, double[] scratch) {
        int dk = d.dk, dv = d.dv;
        int uo = 0, go = CHUNK * dv, kko = go + 2 * CHUNK, ro = kko + CHUNK * CHUNK;   // U [len,dv], G, β [len], k_i·k_j [len,len], o row [dv]
        double acc = 0;
        for (int i = 0; i < len; i++) {
            int r = (b * d.t + t0 + i) * d.h + hh;
            acc += f[gOff + r];
            scratch[go + i] = acc;
            scratch[go + CHUNK + i] = f[bOff + r];
        }
        for (int i = 0; i < len; i++) {
            int ki = kOff + ((b * d.t + t0 + i) * d.h + hh) * dk;
            for (int j = 0; j < i; j++) {
                int kj = kOff + ((b * d.t + t0 + j) * d.h + hh) * dk;
                double s = 0;
                for (int e = 0; e < dk; e++) s += (double) f[ki + e] * f[kj + e];
                scratch[kko + i * CHUNK + j] = s;
            }
        }
        for (int i = 0; i < len; i++) {
            int r = (b * d.t + t0 + i) * d.h + hh, ki = kOff + r * dk, vi = vOff + r * dv, ui = uo + i * dv;
            double gi = scratch[go + i], beta = scratch[go + CHUNK + i], eg = Math.exp(gi);
            for (int j = 0; j < dv; j++) scratch[ui + j] = 0;
            for (int e = 0; e < dk; e++) {
                double ke = f[ki + e];
                for (int j = 0; j < dv; j++) scratch[ui + j] += st[e * dv + j] * ke;
            }
            for (int j = 0; j < dv; j++) scratch[ui + j] = beta * (f[vi + j] - eg * scratch[ui + j]);
            for (int jj = 0; jj < i; jj++) {
                double a = beta * Math.exp(gi - scratch[go + jj]) * scratch[kko + i * CHUNK + jj];
                int uj = uo + jj * dv;
                for (int j = 0; j < dv; j++) scratch[ui + j] -= a * scratch[uj + j];
            }
        }
        if (oOff >= 0) {
            for (int i = 0; i < len; i++) {
                int r = (b * d.t + t0 + i) * d.h + hh, qi = qOff + r * dk, oi = oOff + r * dv;
                double gi = scratch[go + i], eg = Math.exp(gi);
                for (int j = 0; j < dv; j++) scratch[ro + j] = 0;
                for (int e = 0; e < dk; e++) {
                    double qe = eg * f[qi + e];
                    for (int j = 0; j < dv; j++) scratch[ro + j] += st[e * dv + j] * qe;
                }
                for (int jj = 0; jj <= i; jj++) {
                    int kj = kOff + ((b * d.t + t0 + jj) * d.h + hh) * dk;
                    double s = 0;
                    for (int e = 0; e < dk; e++) s += (double) f[qi + e] * f[kj + e];
                    s *= Math.exp(gi - scratch[go + jj]);
                    int uj = uo + jj * dv;
                    for (int j = 0; j < dv; j++) scratch[ro + j] += s * scratch[uj + j];
                }
                for (int j = 0; j < dv; j++) f[oi + j] = (float) scratch[ro + j];
            }
        }
        double gl = scratch[go + len - 1], el = Math.exp(gl);
        for (int e = 0; e < dk * dv; e++) st[e] *= el;
        for (int jj = 0; jj < len; jj++) {
            int kj = kOff + ((b * d.t + t0 + jj) * d.h + hh) * dk, uj = uo + jj * dv;
            double w = Math.exp(gl - scratch[go + jj]);
            for (int e = 0; e < dk; e++) {
                double ke = w * f[kj + e];
                for (int j = 0; j < dv; j++) st[e * dv + j] += ke * scratch[uj + j];
            }
        }
    }

    private static int chunkScratch(int dv) {
        return CHUNK * dv + 2 * CHUNK + CHUNK * CHUNK + dv;
    }

    // ---- gated delta rule: backward (reverse recurrence, states recomputed per chunk) ----

    /**
     * (dq, dk, dv, dg, dbeta) for one task per (sequence, head): a chunked forward pass keeps the
     * state at every chunk start; then, chunk by chunk from the end, the chunk's states are
     * recomputed token by token and the adjoint dS runs backwards through them:
     * dq_t = S_t·do_t; with S' = e^{g}S_{t-1}, u = β(v − S'ᵀk) and w = β·dSᵀk: dk_t = dS·u − S'·w,
     * dv_t = w, dβ_t = (dSᵀk)·(v − S'ᵀk), dS' = dS − k·wᵀ, dg_t = ⟨S', dS'⟩, dS_{t-1} = e^{g}·dS'.
     */
    static void gatedDeltaGrad(float[] f, int qOff, int kOff, int vOff, int gOff, int bOff, int doOff,
                               int dqOff, int dkOff, int dvOff, int dgOff, int dbOff, Gdn d) {
        int m = d.dk * d.dv, dk = d.dk, dv = d.dv, chunks = (d.t + CHUNK - 1) / CHUNK;
        Chunks.forRange(d.bs * d.h, 1, (from, to) -> {
            double[] st = Scratch.doubles(Scratch.A, m);
            double[] cs = Scratch.doubles(Scratch.B, chunkScratch(dv));
            double[] ck = Scratch.doubles(Scratch.C, chunks * m);
            double[] states = Scratch.doubles(Scratch.D, (CHUNK + 1) * m);
            double[] ds = Scratch.doubles(Scratch.E, m + 3 * dv);
            int kso = m, uo = m + dv, duo = m + 2 * dv;          // in ds: S'ᵀk, u, dSᵀk
            for (int task = from; task < to; task++) {
                int b = task / d.h, hh = task % d.h;
                Arrays.fill(st, 0, m, 0);
                for (int c = 0; c < chunks; c++) {
                    System.arraycopy(st, 0, ck, c * m, m);
                    gdnChunk(f, qOff, kOff, vOff, gOff, bOff, -1, b, hh, c * CHUNK, Math.min(CHUNK, d.t - c * CHUNK), d, st, cs);
                }
                Arrays.fill(ds, 0, m, 0);
                for (int c = chunks - 1; c >= 0; c--) {
                    int t0 = c * CHUNK, len = Math.min(CHUNK, d.t - t0);
                    System.arraycopy(ck, c * m, states, 0, m);
                    for (int i = 0; i < len; i++) {
                        int r = (b * d.t + t0 + i) * d.h + hh;
                        double a = Math.exp(f[gOff + r]), beta = f[bOff + r];
                        int prev = i * m, cur = (i + 1) * m, kr = kOff + r * dk, vr = vOff + r * dv;
                        readT(states, prev, a, f, kr, dk, dv, ds, kso);
                        for (int e = 0; e < dk; e++) {
                            double ke = beta * f[kr + e];
                            for (int j = 0; j < dv; j++) states[cur + e * dv + j] = a * states[prev + e * dv + j] + ke * (f[vr + j] - ds[kso + j]);
                        }
                    }
                    for (int i = len - 1; i >= 0; i--) {
                        int r = (b * d.t + t0 + i) * d.h + hh;
                        double a = Math.exp(f[gOff + r]), beta = f[bOff + r];
                        int prev = i * m, cur = (i + 1) * m, kr = kOff + r * dk, vr = vOff + r * dv, qr = qOff + r * dk, or = doOff + r * dv;
                        for (int e = 0; e < dk; e++) {
                            double qe = f[qr + e], acc = 0;
                            for (int j = 0; j < dv; j++) {
                                ds[e * dv + j] += qe * f[or + j];
                                acc += states[cur + e * dv + j] * f[or + j];
                            }
                            f[dqOff + r * dk + e] = (float) acc;
                        }
                        readT(states, prev, a, f, kr, dk, dv, ds, kso);
                        for (int j = 0; j < dv; j++) {
                            ds[uo + j] = beta * (f[vr + j] - ds[kso + j]);
                            ds[duo + j] = 0;
                        }
                        for (int e = 0; e < dk; e++) {
                            double ke = f[kr + e];
                            for (int j = 0; j < dv; j++) ds[duo + j] += ds[e * dv + j] * ke;
                        }
                        double dbeta = 0;
                        for (int j = 0; j < dv; j++) {
                            dbeta += ds[duo + j] * (f[vr + j] - ds[kso + j]);
                            f[dvOff + r * dv + j] = (float) (beta * ds[duo + j]);
                        }
                        f[dbOff + r] = (float) dbeta;
                        double dg = 0;
                        for (int e = 0; e < dk; e++) {
                            double ke = f[kr + e], acc = 0;
                            for (int j = 0; j < dv; j++) {
                                double w = beta * ds[duo + j], sp = a * states[prev + e * dv + j];
                                acc += ds[e * dv + j] * ds[uo + j] - sp * w;
                                double dsp = ds[e * dv + j] - ke * w;
                                dg += sp * dsp;
                                ds[e * dv + j] = a * dsp;
                            }
                            f[dkOff + r * dk + e] = (float) acc;
                        }
                        f[dgOff + r] = (float) dg;
                    }
                }
            }
        });
    }

    /** {@code out[outOff..+dv] = (a·S)ᵀ·k} for S at {@code sOff} of {@code st} and k at {@code kOff} of f. */
    private static void readT(double[] st, int sOff, double a, float[] f, int kOff, int dk, int dv, double[] out, int outOff) {
        for (int j = 0; j < dv; j++) out[outOff + j] = 0;
        for (int e = 0; e < dk; e++) {
            double ke = a * f[kOff + e];
            for (int j = 0; j < dv; j++) out[outOff + j] += st[sOff + e * dv + j] * ke;
        }
    }

    // ---- SSD ----

    /** Shapes of an SSD scan. */
    record Ssd(int bs, int t, int h, int p, int g, int n) {}

    /**
     * y from x [B,T,H,P], a [B,T,H], Bm, C [B,T,G,N] in chunks: with A the in-chunk cumulative a,
     * y_i = e^{A_i}·h0·C_i + Σ_{j≤i} e^{A_i−A_j}(C_i·Bm_j)·x_j and h = e^{A_L}·h0 + Σ_j e^{A_L−A_j} x_j·Bm_jᵀ.
     * With {@code stOff >= 0} starts from the state [B,H,P,N] (zeros at pos 0) and writes the final state there.
     */
    static void ssd(float[] f, int xOff, int aOff, int bmOff, int cOff, int yOff, int stOff, int pos, Ssd d) {
        int m = d.p * d.n, hpg = d.h / d.g;
        Chunks.forRange(d.bs * d.h, 1, (from, to) -> {
            double[] st = Scratch.doubles(Scratch.A, m);
            double[] cum = Scratch.doubles(Scratch.B, CHUNK + d.p);
            int yo = CHUNK;
            for (int task = from; task < to; task++) {
                int b = task / d.h, hh = task % d.h, grp = hh / hpg, so = stOff + task * m;
                for (int e = 0; e < m; e++) st[e] = stOff >= 0 && pos > 0 ? f[so + e] : 0;
                for (int t0 = 0; t0 < d.t; t0 += CHUNK) {
                    int len = Math.min(CHUNK, d.t - t0);
                    double acc = 0;
                    for (int i = 0; i < len; i++) {
                        acc += f[aOff + (b * d.t + t0 + i) * d.h + hh];
                        cum[i] = acc;
                    }
                    for (int i = 0; i < len; i++) {
                        int r = (b * d.t + t0 + i) * d.h + hh, ci = cOff + ((b * d.t + t0 + i) * d.g + grp) * d.n;
                        double ea = Math.exp(cum[i]);
                        for (int pp = 0; pp < d.p; pp++) {
                            double s = 0;
                            for (int nn = 0; nn < d.n; nn++) s += st[pp * d.n + nn] * f[ci + nn];
                            cum[yo + pp] = ea * s;
                        }
                        for (int j = 0; j <= i; j++) {
                            int bj = bmOff + ((b * d.t + t0 + j) * d.g + grp) * d.n, xj = xOff + ((b * d.t + t0 + j) * d.h + hh) * d.p;
                            double s = 0;
                            for (int nn = 0; nn < d.n; nn++) s += (double) f[ci + nn] * f[bj + nn];
                            s *= Math.exp(cum[i] - cum[j]);
                            for (int pp = 0; pp < d.p; pp++) cum[yo + pp] += s * f[xj + pp];
                        }
                        for (int pp = 0; pp < d.p; pp++) f[yOff + r * d.p + pp] = (float) cum[yo + pp];
                    }
                    double last = cum[len - 1], el = Math.exp(last);
                    for (int e = 0; e < m; e++) st[e] *= el;
                    for (int j = 0; j < len; j++) {
                        int bj = bmOff + ((b * d.t + t0 + j) * d.g + grp) * d.n, xj = xOff + ((b * d.t + t0 + j) * d.h + hh) * d.p;
                        double w = Math.exp(last - cum[j]);
                        for (int pp = 0; pp < d.p; pp++) {
                            double xv = w * f[xj + pp];
                            for (int nn = 0; nn < d.n; nn++) st[pp * d.n + nn] += xv * f[bj + nn];
                        }
                    }
                }
                if (stOff >= 0) for (int e = 0; e < m; e++) f[so + e] = (float) st[e];
            }
        });
    }

    /**
     * (dx, da, dBm, dC), one task per (sequence, group) so that the heads sharing Bm and C add into
     * them in head order. Per head: a forward pass gives y_t, r_t = dy_t·y_t and dC_t += h_tᵀdy_t;
     * a reverse pass runs the adjoint dh_t = dy_t·C_tᵀ + e^{a_{t+1}}dh_{t+1} for dx_t = dh_t·Bm_t and
     * dBm_t += dh_tᵀx_t, and da_t = Σ_{s≥t}(r_s − x_s·dx_s): every pair (s ≤ t) that a_t decays
     * counted once, so no state is kept.
     */
    static void ssdGrad(float[] f, int xOff, int aOff, int bmOff, int cOff, int dyOff, int dxOff, int daOff, int dbOff, int dcOff, Ssd d) {
        int m = d.p * d.n, hpg = d.h / d.g;
        Chunks.forRange(d.bs * d.g, 1, (from, to) -> {
            double[] st = Scratch.doubles(Scratch.A, m);
            double[] r = Scratch.doubles(Scratch.B, d.t);
            double[] acc = Scratch.doubles(Scratch.C, 2 * d.t * d.n);   // dBm, dC of this (sequence, group) in float64
            for (int task = from; task < to; task++) {
                int b = task / d.g, grp = task % d.g;
                Arrays.fill(acc, 0, 2 * d.t * d.n, 0);
                int dcA = d.t * d.n;
                for (int hh = grp * hpg; hh < (grp + 1) * hpg; hh++) {
                    Arrays.fill(st, 0, m, 0);
                    for (int t = 0; t < d.t; t++) {
                        int row = (b * d.t + t) * d.h + hh, xr = xOff + row * d.p, dyr = dyOff + row * d.p;
                        int gb = ((b * d.t + t) * d.g + grp) * d.n;
                        double dec = Math.exp(f[aOff + row]), rt = 0;
                        for (int pp = 0; pp < d.p; pp++) {
                            double xv = f[xr + pp], y = 0, dyv = f[dyr + pp];
                            for (int nn = 0; nn < d.n; nn++) {
                                double hv = dec * st[pp * d.n + nn] + xv * f[bmOff + gb + nn];
                                st[pp * d.n + nn] = hv;
                                y += hv * f[cOff + gb + nn];
                                acc[dcA + t * d.n + nn] += hv * dyv;
                            }
                            rt += y * dyv;
                        }
                        r[t] = rt;
                    }
                    Arrays.fill(st, 0, m, 0);                      // now the adjoint dh
                    double run = 0;
                    for (int t = d.t - 1; t >= 0; t--) {
                        int row = (b * d.t + t) * d.h + hh, xr = xOff + row * d.p, dyr = dyOff + row * d.p;
                        int gb = ((b * d.t + t) * d.g + grp) * d.n;
                        double qt = 0;
                        for (int pp = 0; pp < d.p; pp++) {
                            double dyv = f[dyr + pp], xv = f[xr + pp], dx = 0;
                            for (int nn = 0; nn < d.n; nn++) {
                                double dh = st[pp * d.n + nn] + dyv * f[cOff + gb + nn];
                                st[pp * d.n + nn] = dh;
                                dx += dh * f[bmOff + gb + nn];
                                acc[t * d.n + nn] += dh * xv;
                            }
                            f[dxOff + row * d.p + pp] = (float) dx;
                            qt += xv * dx;
                        }
                        run += r[t] - qt;
                        f[daOff + row] = (float) run;
                        double dec = Math.exp(f[aOff + row]);
                        for (int e = 0; e < m; e++) st[e] *= dec;
                    }
                }
                for (int t = 0; t < d.t; t++) {
                    int gb = ((b * d.t + t) * d.g + grp) * d.n;
                    for (int nn = 0; nn < d.n; nn++) {
                        f[dbOff + gb + nn] = (float) acc[t * d.n + nn];
                        f[dcOff + gb + nn] = (float) acc[dcA + t * d.n + nn];
                    }
                }
            }
        });
    }
}
