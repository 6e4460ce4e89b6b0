namespace ServerlessServe.Local.Samples;

/// <summary>A sample model version written to disk: <c>{Directory}/model.onnx</c>, <c>{Directory}/policy.json</c> and, where the policy screens inputs, <c>{Directory}/profile.json</c>.</summary>
public sealed record SampleModel(string Name, string Version, string Directory);
