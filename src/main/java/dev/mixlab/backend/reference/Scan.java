package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.Mlstm;
import dev.mixlab.ir.Retention;
import dev.mixlab.ir.Shape;
import java.util.List;

/**
 * The recurrent scans ({@link Retention}, {@link Mlstm} and their gradients) as the plain
 * token-by-token recurrences of their definitions, in float64. The CPU and CUDA kernels are checked
 * against these (the CPU forward kernels evaluate a chunked form instead).
 */
final class Scan {
    private Scan() {}

    /** Retention; with a state (stateful form) it starts from it unless pos is 0 and writes the final state back. */
    static Tensor[] retention(Retention r, Tensor q, Tensor k, Tensor v, Tensor state, int pos) {
        Shape s = q.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3);
        double[] y = new double[vs.intSize()], st = new double[dk * dv];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                double g = r.gammas().get(h);
                int so = (b * hn + h) * dk * dv;
                if (state != null && pos > 0) System.arraycopy(state.f(), so, st, 0, dk * dv);
                else java.util.Arrays.fill(st, 0);
                for (int t = 0; t < tn; t++) {
                    int qo = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    for (int i = 0; i < dk; i++) {
                        for (int j = 0; j < dv; j++) st[i * dv + j] = g * st[i * dv + j] + k.f()[qo + i] * v.f()[vo + j];
                    }
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += q.f()[qo + i] * st[i * dv + j];
                        y[vo + j] = acc;
                    }
                }
                if (state != null) System.arraycopy(st, 0, state.f(), so, dk * dv);
            }
        }
        Tensor out = Tensor.of(vs, y);
        return state == null ? new Tensor[] {out} : new Tensor[] {out, state};
    }

    /** {@code (dq, dk, dv)}: dq from the forward states, dk and dv from the reverse adjoint state D. */
    static Tensor[] retentionGrad(List<Double> gammas, Tensor q, Tensor k, Tensor v, double[] dy) {
        Shape s = q.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3);
        double[] dq = new double[s.intSize()], dkk = new double[s.intSize()], dvv = new double[vs.intSize()];
        double[] st = new double[dk * dv];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                double g = gammas.get(h);
                java.util.Arrays.fill(st, 0);
                for (int t = 0; t < tn; t++) {
                    int qo = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) {
                            st[i * dv + j] = g * st[i * dv + j] + k.f()[qo + i] * v.f()[vo + j];
                            acc += st[i * dv + j] * dy[vo + j];
                        }
                        dq[qo + i] = acc;
                    }
                }
                java.util.Arrays.fill(st, 0);
                for (int t = tn - 1; t >= 0; t--) {
                    int qo = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) {
                            st[i * dv + j] = g * st[i * dv + j] + q.f()[qo + i] * dy[vo + j];
                            acc += st[i * dv + j] * v.f()[vo + j];
                        }
                        dkk[qo + i] = acc;
                    }
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += st[i * dv + j] * k.f()[qo + i];
                        dvv[vo + j] = acc;
                    }
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dq), Tensor.of(s, dkk), Tensor.of(vs, dvv)};
    }

    /** log σ(x), without overflow for large |x|. */
    static double logSigmoid(double x) {
        return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** The mLSTM cell; with a state (stateful form) it starts from it unless pos is 0 and writes the final state back. */
    static Tensor[] mlstm(Tensor q, Tensor k, Tensor v, double[] ig, double[] fg, Tensor state, int pos) {
        Shape s = q.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3), ss = Mlstm.stateSize(dk, dv);
        double[] y = new double[vs.intSize()], c = new double[dv * dk], n = new double[dk];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                int so = (b * hn + h) * ss;
                double m = 0;
                java.util.Arrays.fill(c, 0);
                java.util.Arrays.fill(n, 0);
                if (state != null && pos > 0) {
                    System.arraycopy(state.f(), so, c, 0, dv * dk);
                    System.arraycopy(state.f(), so + dv * dk, n, 0, dk);
                    m = state.f()[so + dv * dk + dk];
                }
                for (int t = 0; t < tn; t++) {
                    int go = (b * tn + t) * hn + h, qo = go * dk, vo = go * dv;
                    double lf = logSigmoid(fg[go]), mNew = Math.max(lf + m, ig[go]);
                    double fp = Math.exp(lf + m - mNew), ip = Math.exp(ig[go] - mNew);
                    double bq = 0;
                    for (int i = 0; i < dk; i++) {
                        n[i] = fp * n[i] + ip * k.f()[qo + i];
                        bq += n[i] * q.f()[qo + i];
                    }
                    double den = Math.max(Math.abs(bq), Math.exp(-mNew));
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) {
                            c[j * dk + i] = fp * c[j * dk + i] + ip * v.f()[vo + j] * k.f()[qo + i];
                            acc += c[j * dk + i] * q.f()[qo + i];
                        }
                        y[vo + j] = acc / den;
                    }
                    m = mNew;
                }
                if (state != null) {
                    System.arraycopy(c, 0, state.f(), so, dv * dk);
                    System.arraycopy(n, 0, state.f(), so + dv * dk, dk);
                    state.f()[so + dv * dk + dk] = m;
                }
            }
        }
        Tensor out = Tensor.of(vs, y);
        return state == null ? new Tensor[] {out} : new Tensor[] {out, state};
    }

    /**
     * {@code (dq, dk, dv, di, df)} of the mLSTM cell. In unstabilised terms h̃ = C̄q / max(|n̄ᵀq|, 1);
     * the adjoint state Ĝ_t = e^(m_t)·∂L/∂C̄_t obeys Ĝ_t = f'_{t+1} Ĝ_{t+1} + (dh̃_t/den_t) q_tᵀ, and the
     * normaliser adds β_t = −sign(b_t)(dh̃_t·h̃_t)/den_t where |b_t| > e^(−m_t) (else the floor is a
     * constant). The forget gate's log-decay enters every later step, hence its suffix sum.
     */
    static Tensor[] mlstmGrad(Tensor q, Tensor k, Tensor v, double[] ig, double[] fg, double[] hy, double[] dh) {
        Shape s = q.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3);
        double[] dq = new double[s.intSize()], dkk = new double[s.intSize()], dvv = new double[vs.intSize()];
        double[] di = new double[ig.length], df = new double[fg.length];
        double[] c = new double[dv * dk], n = new double[dk], ms = new double[tn], dens = new double[tn], betas = new double[tn];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                java.util.Arrays.fill(c, 0);
                java.util.Arrays.fill(n, 0);
                double m = 0;
                for (int t = 0; t < tn; t++) {
                    int go = (b * tn + t) * hn + h, qo = go * dk, vo = go * dv;
                    double lf = logSigmoid(fg[go]), mNew = Math.max(lf + m, ig[go]);
                    double fp = Math.exp(lf + m - mNew), ip = Math.exp(ig[go] - mNew);
                    double bq = 0;
                    for (int i = 0; i < dk; i++) {
                        n[i] = fp * n[i] + ip * k.f()[qo + i];
                        bq += n[i] * q.f()[qo + i];
                    }
                    for (int j = 0; j < dv; j++) {
                        for (int i = 0; i < dk; i++) c[j * dk + i] = fp * c[j * dk + i] + ip * v.f()[vo + j] * k.f()[qo + i];
                    }
                    double floor = Math.exp(-mNew), den = Math.max(Math.abs(bq), floor), sdot = 0;
                    for (int j = 0; j < dv; j++) sdot += dh[vo + j] * hy[vo + j];
                    double beta = Math.abs(bq) > floor ? -Math.signum(bq) * sdot / den : 0;
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) acc += c[j * dk + i] * dh[vo + j];
                        dq[qo + i] = acc / den + beta * n[i];
                    }
                    m = mNew;
                    ms[t] = m;
                    dens[t] = den;
                    betas[t] = beta;
                }
                // reverse: c holds Ĝ, n holds ĝ
                java.util.Arrays.fill(c, 0);
                java.util.Arrays.fill(n, 0);
                double r = 0;
                for (int t = tn - 1; t >= 0; t--) {
                    int go = (b * tn + t) * hn + h, qo = go * dk, vo = go * dv;
                    if (t < tn - 1) {
                        int g1 = go + hn;
                        double fp1 = Math.exp(logSigmoid(fg[g1]) + ms[t] - ms[t + 1]);
                        for (int e = 0; e < c.length; e++) c[e] *= fp1;
                        for (int i = 0; i < dk; i++) n[i] *= fp1;
                    }
                    for (int j = 0; j < dv; j++) {
                        double a = dh[vo + j] / dens[t];
                        for (int i = 0; i < dk; i++) c[j * dk + i] += a * q.f()[qo + i];
                    }
                    for (int i = 0; i < dk; i++) n[i] += betas[t] * q.f()[qo + i];
                    double ip = Math.exp(ig[go] - ms[t]), dsum = 0, qdq = 0;
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += c[j * dk + i] * k.f()[qo + i];
                        dvv[vo + j] = ip * acc;
                    }
                    for (int i = 0; i < dk; i++) {
                        double acc = n[i];
                        for (int j = 0; j < dv; j++) acc += c[j * dk + i] * v.f()[vo + j];
                        dkk[qo + i] = ip * acc;
                        dsum += k.f()[qo + i] * dkk[qo + i];
                        qdq += q.f()[qo + i] * dq[qo + i];
                    }
                    di[go] = dsum;
                    r += qdq - dsum;
                    df[go] = (1 - 1 / (1 + Math.exp(-fg[go]))) * r;
                }
            }
        }
        Shape gs = Shape.of(bn, tn, hn);
        return new Tensor[] {Tensor.of(s, dq), Tensor.of(s, dkk), Tensor.of(vs, dvv), Tensor.of(gs, di), Tensor.of(gs, df)};
    }

    /** RWKV-6 wkv; with a state (stateful form) it starts from it unless pos is 0 and writes the final state back. */
    static Tensor[] wkv(Tensor r, Tensor k, Tensor v, double[] w, double[] u, Tensor state, int pos) {
        Shape s = r.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3);
        double[] y = new double[vs.intSize()], st = new double[dk * dv];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                int so = (b * hn + h) * dk * dv;
                if (state != null && pos > 0) System.arraycopy(state.f(), so, st, 0, dk * dv);
                else java.util.Arrays.fill(st, 0);
                for (int t = 0; t < tn; t++) {
                    int ro = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += r.f()[ro + i] * (st[i * dv + j] + u[h * dk + i] * k.f()[ro + i] * v.f()[vo + j]);
                        y[vo + j] = acc;
                    }
                    for (int i = 0; i < dk; i++) {
                        double decay = Math.exp(-Math.exp(w[ro + i]));
                        for (int j = 0; j < dv; j++) st[i * dv + j] = decay * st[i * dv + j] + k.f()[ro + i] * v.f()[vo + j];
                    }
                }
                if (state != null) System.arraycopy(st, 0, state.f(), so, dk * dv);
            }
        }
        Tensor out = Tensor.of(vs, y);
        return state == null ? new Tensor[] {out} : new Tensor[] {out, state};
    }

    /**
     * {@code (dr, dk, dv, dw, du[B,H,dk])} of wkv: dr from the forward states S_{t−1}; dk, dv from the
     * reverse adjoint state D_t = diag(decay_{t+1}) D_{t+1} + r_{t+1} dy_{t+1}ᵀ; the log decay of step s
     * scales every product of a later r with an earlier-or-equal k, hence the per-channel suffix sums
     * of r⊙dr and k⊙dk without the bonus terms.
     */
    static Tensor[] wkvGrad(Tensor r, Tensor k, Tensor v, double[] w, double[] u, double[] dy) {
        Shape s = r.shape(), vs = v.shape();
        int bn = s.dim(0), tn = s.dim(1), hn = s.dim(2), dk = s.dim(3), dv = vs.dim(3);
        double[] dr = new double[s.intSize()], dkk = new double[s.intSize()], dvv = new double[vs.intSize()];
        double[] dw = new double[s.intSize()], du = new double[bn * hn * dk], st = new double[dk * dv];
        double[] drNb = new double[tn * dk], p = new double[dk], q = new double[dk];
        for (int b = 0; b < bn; b++) {
            for (int h = 0; h < hn; h++) {
                java.util.Arrays.fill(st, 0);
                for (int t = 0; t < tn; t++) {
                    int ro = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    double vdy = 0;
                    for (int j = 0; j < dv; j++) vdy += v.f()[vo + j] * dy[vo + j];
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) acc += st[i * dv + j] * dy[vo + j];
                        drNb[t * dk + i] = acc;
                        dr[ro + i] = acc + u[h * dk + i] * k.f()[ro + i] * vdy;
                        du[(b * hn + h) * dk + i] += r.f()[ro + i] * k.f()[ro + i] * vdy;
                        double decay = Math.exp(-Math.exp(w[ro + i]));
                        for (int j = 0; j < dv; j++) st[i * dv + j] = decay * st[i * dv + j] + k.f()[ro + i] * v.f()[vo + j];
                    }
                }
                java.util.Arrays.fill(st, 0);
                java.util.Arrays.fill(p, 0);
                java.util.Arrays.fill(q, 0);
                for (int t = tn - 1; t >= 0; t--) {
                    int ro = ((b * tn + t) * hn + h) * dk, vo = ((b * tn + t) * hn + h) * dv;
                    if (t < tn - 1) {
                        int r1 = ro + hn * dk, v1 = vo + hn * dv;
                        for (int i = 0; i < dk; i++) {
                            double decay = Math.exp(-Math.exp(w[r1 + i]));
                            for (int j = 0; j < dv; j++) st[i * dv + j] = decay * st[i * dv + j] + r.f()[r1 + i] * dy[v1 + j];
                            p[i] += r.f()[r1 + i] * drNb[(t + 1) * dk + i];
                        }
                    }
                    double vdy = 0, ruk = 0;
                    for (int j = 0; j < dv; j++) vdy += v.f()[vo + j] * dy[vo + j];
                    for (int i = 0; i < dk; i++) ruk += r.f()[ro + i] * u[h * dk + i] * k.f()[ro + i];
                    for (int i = 0; i < dk; i++) {
                        double acc = 0;
                        for (int j = 0; j < dv; j++) acc += st[i * dv + j] * v.f()[vo + j];
                        q[i] += k.f()[ro + i] * acc;
                        dkk[ro + i] = acc + r.f()[ro + i] * u[h * dk + i] * vdy;
                        dw[ro + i] = -Math.exp(w[ro + i]) * (p[i] - q[i]);
                    }
                    for (int j = 0; j < dv; j++) {
                        double acc = 0;
                        for (int i = 0; i < dk; i++) acc += st[i * dv + j] * k.f()[ro + i];
                        dvv[vo + j] = acc + ruk * dy[vo + j];
                    }
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dr), Tensor.of(s, dkk), Tensor.of(vs, dvv), Tensor.of(s, dw),
                Tensor.of(Shape.of(bn, hn, dk), du)};
    }

    /** Token shift by one step (forward: y_t = x_{t−1}; reverse: y_t = x_{t+1}); with a state, y_0 is the state. */
    static Tensor[] tokenShift(boolean reverse, Tensor x, Tensor state, int pos) {
        Shape s = x.shape();
        int bn = s.dim(0), tn = s.dim(1), dn = s.dim(2);
        double[] y = new double[s.intSize()];
        for (int b = 0; b < bn; b++) {
            for (int t = 0; t < tn; t++) {
                int src = reverse ? t + 1 : t - 1;
                for (int c = 0; c < dn; c++) {
                    double val = 0;
                    if (src >= 0 && src < tn) val = x.f()[(b * tn + src) * dn + c];
                    else if (state != null && pos > 0) val = state.f()[b * dn + c];
                    y[(b * tn + t) * dn + c] = val;
                }
            }
            if (state != null) System.arraycopy(x.f(), (b * tn + tn - 1) * dn, state.f(), b * dn, dn);
        }
        Tensor out = Tensor.of(s, y);
        return state == null ? new Tensor[] {out} : new Tensor[] {out, state};
    }
}
