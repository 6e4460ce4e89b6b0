namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// The class a model predicts for each of <paramref name="rows"/>, in order. Attack success is judged by this, so an
/// evaluation can judge with the served model (ONNX Runtime on the real bytes) rather than the attacker's own copy.
/// </summary>
public delegate IReadOnlyList<int> Classifier(IReadOnlyList<float[]> rows);
