package dev.mixlab.config;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One entry of {@code training.param_groups}: which parameters it takes and how they are updated.
 * A parameter goes to the first group whose {@code match} (any of the patterns), {@code rank} and
 * {@code tag} all accept it. Field meanings and defaults: {@code docs/config.md}.
 *
 * @param name        label in logs
 * @param match       name patterns: a glob ({@code *} any run of characters, {@code ?} one) over the
 *                    whole name, or {@code /regex/} found anywhere in the name
 * @param rank        rank condition such as {@code ">=2"}, {@code "2"}, {@code "<2"}; null for any rank
 * @param tag         a tag the parameter must carry (e.g. {@code control}); null for any
 * @param optimizer   update rule for the group
 * @param lr          peak learning rate of the group (the schedule multiplies it)
 * @param beta1       first-moment decay (Adam), momentum (SGD)
 * @param beta2       second-moment decay (Adam)
 * @param eps         Adam epsilon
 * @param weightDecay decoupled weight decay (AdamW, Muon) or coupled (SGD)
 */
public record ParamGroup(String name, List<String> match, String rank, String tag, Optimizer optimizer, double lr,
                         double beta1, double beta2, double eps, double weightDecay) {

    public ParamGroup {
        match = List.copyOf(match);
    }

    /** Whether a parameter with this name, rank and tags belongs to the group. */
    public boolean accepts(String paramName, int paramRank, Set<String> tags) {
        if (tag != null && !tags.contains(tag)) return false;
        if (rank != null && !rankOk(rank, paramRank)) return false;
        for (String m : match) if (matches(m, paramName)) return true;
        return false;
    }

    /** {@code /re/} finds re in the name; anything else is a glob over the whole name. */
    public static boolean matches(String pattern, String name) {
        if (pattern.length() >= 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
            return Pattern.compile(pattern.substring(1, pattern.length() - 1)).matcher(name).find();
        }
        return globRegex(pattern).matcher(name).matches();
    }

    static Pattern globRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char ch : glob.toCharArray()) {
            switch (ch) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(re.toString());
    }

    /** A rank condition: an optional comparison ({@code >=, <=, >, <, ==, =}) then a non-negative integer. */
    static final Pattern RANK = Pattern.compile("\\s*(>=|<=|==|=|>|<)?\\s*(\\d+)\\s*");

    static boolean rankOk(String cond, int r) {
        var m = RANK.matcher(cond);
        if (!m.matches()) throw new IllegalArgumentException("bad rank condition " + cond);
        int k = Integer.parseInt(m.group(2));
        String op = m.group(1) == null ? "==" : m.group(1);
        return switch (op) {
            case ">=" -> r >= k;
            case "<=" -> r <= k;
            case ">" -> r > k;
            case "<" -> r < k;
            default -> r == k;
        };
    }

    /** The seed's names of scalar/control tensors ({@code CONTROL_TENSOR_NAME_PATTERNS}) as globs. */
    public static final List<String> CONTROL_PATTERNS = List.of("*attn_scale*", "*mlp_scale*", "*resid_mix*",
            "*q_gain*", "*skip_weight*");

    /**
     * The parameter-golf split ({@code train_gpt_mlx.py}'s SplitOptimizers), first match wins:
     * embeddings Adam at 0.05 ({@code tied_embed_lr}), an untied head Adam at 0.008 ({@code head_lr}),
     * control tensors (tag {@code control} or the seed's name patterns) Adam at 0.04
     * ({@code scalar_lr}), block matrices Muon at 0.04 ({@code matrix_lr}), everything else Adam
     * at 0.04. Betas and eps come from the training section; no weight decay.
     */
    public static List<ParamGroup> golfDefaults(double beta1, double beta2, double eps) {
        return List.of(
                new ParamGroup("embed", List.of("tok_emb.weight", "pos_emb.weight"), null, null, Optimizer.ADAM, 0.05, beta1, beta2, eps, 0),
                new ParamGroup("head", List.of("lm_head.weight"), null, null, Optimizer.ADAM, 0.008, beta1, beta2, eps, 0),
                new ParamGroup("control", List.of("*"), null, "control", Optimizer.ADAM, 0.04, beta1, beta2, eps, 0),
                new ParamGroup("control_names", CONTROL_PATTERNS, null, null, Optimizer.ADAM, 0.04, beta1, beta2, eps, 0),
                new ParamGroup("matrix", List.of("blocks.*"), "2", null, Optimizer.MUON, 0.04, beta1, beta2, eps, 0),
                new ParamGroup("scalar", List.of("*"), null, null, Optimizer.ADAM, 0.04, beta1, beta2, eps, 0));
    }
}
