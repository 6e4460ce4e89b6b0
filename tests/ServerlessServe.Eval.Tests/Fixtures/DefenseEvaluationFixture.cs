using ServerlessServe.Eval.Defenses;

namespace ServerlessServe.Eval.Tests.Fixtures;

/// <summary>
/// One run of the full defense evaluation (the real model in ONNX Runtime, every configuration and attack), shared by
/// the tests of a class. Timings are not measured: tests never assert them.
/// </summary>
public sealed class DefenseEvaluationFixture
{
    public DefenseEvaluationFixture()
    {
        Result = DefenseEvaluation.Run(new DefenseEvaluationOptions { MeasureCost = false });
    }

    public DefenseEvaluationResult Result { get; }

    public DefenseReport Report => Result.Report;
}
