/**
 * Set by a command for which the signal that stopped it is its normal end (`cirt serve` drained on
 * SIGTERM): the binary then keeps the command's exit code instead of reporting an interruption.
 */
export const signalEnd = { clean: false };
