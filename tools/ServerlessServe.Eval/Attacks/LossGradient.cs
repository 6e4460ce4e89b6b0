namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// White-box access to a model: the gradient of its loss for the true <paramref name="label"/> with respect to one
/// input row, in the input's own units (for the digits sample, <c>DigitsWeights.InputGradient</c>).
/// </summary>
public delegate float[] LossGradient(ReadOnlySpan<float> input, int label);
