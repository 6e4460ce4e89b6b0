namespace ServerlessServe.Local.Samples;

/// <summary>A sample model version written to disk: <c>{Directory}/model.onnx</c> and <c>{Directory}/policy.json</c>.</summary>
public sealed record SampleModel(string Name, string Version, string Directory);
