package dev.mixlab.stats;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each statistic against a published worked example, to 4 significant digits. Every number below
 * was also recomputed independently (python3 arithmetic by hand, numerical integration of the t
 * density) before it was written here.
 */
class StatsTest {
    /** Relative agreement to 4 significant digits: |actual − expected| ≤ half a unit in the 4th digit. */
    static void sig4(double expected, double actual, String what) {
        double unit = Math.pow(10, Math.floor(Math.log10(Math.abs(expected))) - 3);
        assertEquals(expected, actual, 0.5 * unit, what);
    }

    @Test
    void meanAndSampleSd() {
        double[] x = {2, 4, 4, 4, 5, 5, 7, 9};
        assertEquals(5.0, Stats.mean(x), 1e-15);
        // sum of squares 32 over n − 1 = 7
        assertEquals(Math.sqrt(32.0 / 7), Stats.sd(x), 1e-15);
        assertTrue(Double.isNaN(Stats.sd(new double[] {1})));
    }

    @Test
    void logGammaAndIncompleteBetaIdentities() {
        assertEquals(Math.log(Math.sqrt(Math.PI)), Distributions.logGamma(0.5), 1e-13);
        assertEquals(Math.log(362880), Distributions.logGamma(10), 1e-12);
        assertEquals(Math.log(24), Distributions.logGamma(5), 1e-13);
        // I_x(a, 1) = x^a, I_x(1, b) = 1 − (1 − x)^b, I_{1/2}(a, a) = 1/2
        assertEquals(Math.pow(0.3, 2.5), Distributions.incompleteBeta(0.3, 2.5, 1), 1e-13);
        assertEquals(1 - Math.pow(0.6, 7.5), Distributions.incompleteBeta(0.4, 1, 7.5), 1e-13);
        assertEquals(0.5, Distributions.incompleteBeta(0.5, 13, 13), 1e-13);
    }

    /**
     * Student-t quantiles against the standard table of critical values (e.g. NIST/SEMATECH
     * e-Handbook of Statistical Methods, section 1.3.6.7.2 "Critical Values of the Student's t
     * Distribution"; any statistics textbook's t table has the same numbers).
     */
    @Test
    void studentTQuantilesMatchTheTable() {
        sig4(2.228, Distributions.studentTQuantile(0.975, 10), "t(0.975, 10)");
        sig4(12.71, Distributions.studentTQuantile(0.975, 1), "t(0.975, 1)");
        sig4(4.303, Distributions.studentTQuantile(0.975, 2), "t(0.975, 2)");
        sig4(2.015, Distributions.studentTQuantile(0.95, 5), "t(0.95, 5)");
        sig4(2.042, Distributions.studentTQuantile(0.975, 30), "t(0.975, 30)");
        sig4(2.845, Distributions.studentTQuantile(0.995, 20), "t(0.995, 20)");
        sig4(1.638, Distributions.studentTQuantile(0.90, 3), "t(0.90, 3)");
        sig4(-2.228, Distributions.studentTQuantile(0.025, 10), "symmetric");
        // df = 1 is the Cauchy distribution: P(T <= t) = 1/2 + atan(t)/π
        assertEquals(0.5 + Math.atan(3) / Math.PI, Distributions.studentTCdf(3, 1), 1e-12);
    }

    /**
     * NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.5.3 "Two-Sample t-Test for
     * Equal Means", the AUTO83B.DAT example (miles per gallon, US cars vs Japanese cars):
     * N1 = 249, mean 20.14458, sd 6.41470; N2 = 79, mean 30.48101, sd 6.10771. Stated results:
     * equal variances T = -12.62059, pooled sd 6.34260, ν = 326, t(0.975, 326) = 1.9673;
     * unequal variances (Welch) T = -12.94627, ν = 136.8750, t(0.975, 136.875) = 1.9774.
     */
    @Test
    void welchMatchesNistTwoSampleExample() {
        Stats.WelchResult w = Stats.welch(20.14458, 6.41470, 249, 30.48101, 6.10771, 79, 0.95);
        sig4(-12.94627, w.t(), "Welch T");
        sig4(136.8750, w.df(), "Welch–Satterthwaite df");
        sig4(1.9774, w.tCrit(), "t(0.975, 136.875)");
        sig4(-10.33643, w.diff(), "difference of means");
        // the 95% interval is diff ± t_crit · se, se = diff / T
        double se = -10.33643 / -12.94627;
        sig4(-10.33643 - 1.9774 * se, w.lo(), "lower end");
        sig4(-10.33643 + 1.9774 * se, w.hi(), "upper end");
        assertTrue(w.p() < 1e-20, "p " + w.p());
        sig4(1.9673, Distributions.studentTQuantile(0.975, 326), "t(0.975, 326)");
    }

    /**
     * Cohen's d uses the pooled sd of the same NIST example (stated sp = 6.34260), and
     * d = T_pooled · sqrt(1/N1 + 1/N2) with the stated equal-variance T = -12.62059. (No published
     * worked example of d itself is used: d is checked through these two stated quantities.)
     */
    @Test
    void cohensDFromThePooledSd() {
        sig4(6.34260, Stats.pooledSd(6.41470, 249, 6.10771, 79), "pooled sd");
        double d = Stats.cohensD(20.14458, 6.41470, 249, 30.48101, 6.10771, 79);
        sig4(-12.62059 * Math.sqrt(1.0 / 249 + 1.0 / 79), d, "Cohen's d");
        sig4(-1.630, d, "Cohen's d (hand-computed: -10.33643 / 6.34260)");
        double[] a = {1, 2, 3, 4}, b = {3, 4, 5, 6};
        // equal sds (1.29099); d = -2 / 1.29099
        assertEquals(-2 / Math.sqrt(5.0 / 3), Stats.cohensD(a, b), 1e-12);
    }

    /**
     * NIST/SEMATECH e-Handbook of Statistical Methods, section 7.4.3.3 "The ANOVA table and tests
     * of hypotheses about means": three levels of five observations, stated SS treatments 27.897
     * (df 2, MS 13.949), SS error 17.452 (df 12, MS 1.454), F = 9.59 against F(0.95; 2, 12) = 3.89.
     */
    @Test
    void anovaMatchesNistExample() {
        List<double[]> g = List.of(
                new double[] {6.9, 5.4, 5.8, 4.6, 4.0},
                new double[] {8.3, 6.8, 7.8, 9.2, 6.5},
                new double[] {8.0, 10.5, 8.1, 6.9, 9.3});
        Stats.AnovaResult a = Stats.anova(g);
        sig4(27.897, a.ssBetween(), "SS treatments");
        sig4(17.452, a.ssWithin(), "SS error");
        sig4(13.949, a.msBetween(), "MS treatments");
        sig4(1.454, a.msWithin(), "MS error");
        assertEquals(2, a.dfBetween());
        assertEquals(12, a.dfWithin());
        sig4(9.591, a.f(), "F");
        // with 2 numerator df the F tail has a closed form: P(F > f) = (1 + 2f/d2)^(-d2/2)
        sig4(Math.pow(1 + 2 * a.f() / 12, -6), a.p(), "p-value");
        sig4(0.003248, a.p(), "p-value");
        // the table's critical value F(0.95; 2, 12) = 3.885 has tail probability 0.05
        assertEquals(0.05, Distributions.fSurvival(3.885, 2, 12), 0.0005);
    }

    @Test
    void fTailWithOneNumeratorDfIsTheSquaredTTail() {
        double t = Distributions.studentTQuantile(0.975, 10);
        assertEquals(0.05, Distributions.fSurvival(t * t, 1, 10), 1e-10);
        assertEquals(0.05, Distributions.fSurvival(4.965, 1, 10), 0.0001);
    }

    @Test
    void welchWithNoSpreadGivesNoInterval() {
        Stats.WelchResult w = Stats.welch(new double[] {1, 1}, new double[] {2, 2}, 0.95);
        assertEquals(-1, w.diff(), 0);
        assertTrue(Double.isNaN(w.df()));
    }
}
