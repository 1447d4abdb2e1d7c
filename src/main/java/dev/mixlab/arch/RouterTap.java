package dev.mixlab.arch;

import dev.mixlab.ir.Value;

/**
 * What one mixture-of-experts layer exposes to the programs around the model.
 *
 * @param layer    the layer index
 * @param auxLoss  the weighted load-balancing loss (scalar) to add to the training loss; null when off
 *                 or not training
 * @param load     tokens that chose each expert in this forward pass, {@code [E]} (before capacity drops)
 * @param dropped  assignments dropped by the capacity limit (scalar)
 * @param bias     the balancing bias parameter {@code [E]} (tagged {@code buffer}, updated after each
 *                 step, not trained); null without {@code bias_balancing}
 * @param biasRate the bias update step
 */
public record RouterTap(int layer, Value auxLoss, Value load, Value dropped, Value bias, double biasRate) {
    /** The tag of parameters that are updated by rules other than gradients (never differentiated). */
    public static final String BUFFER = "buffer";
}
