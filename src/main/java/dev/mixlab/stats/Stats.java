package dev.mixlab.stats;

import java.util.List;

/**
 * Descriptive statistics and the tests a race reports: mean, sample standard deviation, Welch's
 * confidence interval for a difference of means, Cohen's d and one-way ANOVA. Formulas:
 * {@code docs/experiments.md}.
 */
public final class Stats {
    private Stats() {}

    /** @return the arithmetic mean; NaN for no values */
    public static double mean(double[] x) {
        if (x.length == 0) return Double.NaN;
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /** @return the sample variance (divisor n − 1); NaN for fewer than two values */
    public static double variance(double[] x) {
        if (x.length < 2) return Double.NaN;
        double m = mean(x), s = 0;
        for (double v : x) s += (v - m) * (v - m);
        return s / (x.length - 1);
    }

    /** @return the sample standard deviation (divisor n − 1); NaN for fewer than two values */
    public static double sd(double[] x) {
        return Math.sqrt(variance(x));
    }

    /**
     * Welch's t interval for mean(a) − mean(b), not assuming equal variances.
     *
     * @param level confidence level, e.g. 0.95
     */
    public static WelchResult welch(double[] a, double[] b, double level) {
        return welch(mean(a), sd(a), a.length, mean(b), sd(b), b.length, level);
    }

    /** {@link #welch(double[], double[], double)} from summary statistics (mean, sample sd, n) of each group. */
    public static WelchResult welch(double meanA, double sdA, int nA, double meanB, double sdB, int nB, double level) {
        if (nA < 2 || nB < 2) throw new IllegalArgumentException("Welch's test needs at least two values per group");
        if (!(level > 0 && level < 1)) throw new IllegalArgumentException("level must be in (0, 1), got " + level);
        double va = sdA * sdA / nA, vb = sdB * sdB / nB;
        double diff = meanA - meanB;
        double se = Math.sqrt(va + vb);
        // Welch–Satterthwaite degrees of freedom
        double df = (va + vb) * (va + vb) / (va * va / (nA - 1) + vb * vb / (nB - 1));
        if (!(se > 0) || !Double.isFinite(df)) {
            return new WelchResult(diff, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, diff, diff, level);
        }
        double t = diff / se;
        double crit = Distributions.studentTQuantile(0.5 + level / 2, df);
        double p = 2 * Distributions.studentTCdf(-Math.abs(t), df);
        return new WelchResult(diff, se, df, t, p, crit, diff - crit * se, diff + crit * se, level);
    }

    /**
     * Cohen's d with the pooled standard deviation: (mean(a) − mean(b)) / s_p,
     * s_p² = ((n_a − 1) s_a² + (n_b − 1) s_b²) / (n_a + n_b − 2).
     *
     * @return d; NaN when a group has fewer than two values or the pooled sd is 0
     */
    public static double cohensD(double[] a, double[] b) {
        return cohensD(mean(a), sd(a), a.length, mean(b), sd(b), b.length);
    }

    /** {@link #cohensD(double[], double[])} from summary statistics. */
    public static double cohensD(double meanA, double sdA, int nA, double meanB, double sdB, int nB) {
        if (nA < 2 || nB < 2) return Double.NaN;
        double sp = pooledSd(sdA, nA, sdB, nB);
        return sp > 0 ? (meanA - meanB) / sp : Double.NaN;
    }

    /** @return the pooled standard deviation of two groups */
    public static double pooledSd(double sdA, int nA, double sdB, int nB) {
        return Math.sqrt(((nA - 1) * sdA * sdA + (nB - 1) * sdB * sdB) / (nA + nB - 2));
    }

    /** One-way analysis of variance across groups (each at least one value, at least two groups, N &gt; k). */
    public static AnovaResult anova(List<double[]> groups) {
        int k = groups.size();
        int n = 0;
        double total = 0;
        for (double[] g : groups) {
            if (g.length == 0) throw new IllegalArgumentException("ANOVA: an empty group");
            n += g.length;
            for (double v : g) total += v;
        }
        if (k < 2 || n <= k) throw new IllegalArgumentException("ANOVA needs at least two groups and more values than groups");
        double grand = total / n;
        double ssb = 0, ssw = 0;
        for (double[] g : groups) {
            double m = mean(g);
            ssb += g.length * (m - grand) * (m - grand);
            for (double v : g) ssw += (v - m) * (v - m);
        }
        int dfb = k - 1, dfw = n - k;
        double msb = ssb / dfb, msw = ssw / dfw;
        double f = msw > 0 ? msb / msw : (msb > 0 ? Double.POSITIVE_INFINITY : Double.NaN);
        double p = Double.isNaN(f) ? Double.NaN : Distributions.fSurvival(f, dfb, dfw);
        return new AnovaResult(f, dfb, dfw, p, ssb, ssw, msb, msw);
    }

    /**
     * @param diff  mean(a) − mean(b)
     * @param se    standard error of the difference
     * @param df    Welch–Satterthwaite degrees of freedom (NaN when both groups have no spread)
     * @param t     diff / se
     * @param p     two-sided p-value
     * @param tCrit the Student-t quantile used for the interval
     * @param lo    lower end of the interval
     * @param hi    upper end of the interval
     * @param level confidence level
     */
    public record WelchResult(double diff, double se, double df, double t, double p, double tCrit, double lo,
                              double hi, double level) {}

    /**
     * @param f         the F statistic, MS between / MS within
     * @param dfBetween k − 1
     * @param dfWithin  N − k
     * @param p         P(F(dfBetween, dfWithin) &gt; f)
     */
    public record AnovaResult(double f, int dfBetween, int dfWithin, double p, double ssBetween, double ssWithin,
                              double msBetween, double msWithin) {}
}
