using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>extract</c>: model-extraction detection per caller and model, when the model's policy asks for it
/// (<c>defenses.extraction</c>). Every row of the policy's input is observed, with the class the model predicted for it
/// (from the policy's output, before redaction), in the caller's state for the model (by name: every version shares it;
/// <see cref="ExtractionStateStore"/>, in memory, never a storage call). The finding on the audit record is the
/// caller's latest W against δ, flagged once any signal has been raised for the caller. This stage never refuses: the
/// request that raises a signal is answered, and the alarm — one security event per newly raised signal set, action
/// none in shadow mode, the policy's action in enforce mode — acts on the caller's later requests. The event is raised
/// before the stage returns (so a block applies on this instance at once) whatever the request's cancellation; a
/// failure to raise it is logged and the request goes on.
/// </summary>
public sealed class DetectExtraction(ExtractionStateStore store, ExtractionAlarms alarms, CallerPseudonymizer pseudonymizer, TimeProvider time)
    : IRequestStage<InferenceContext>
{
    /// <summary>The defense's name on the audit record.</summary>
    public const string DefenseName = "extraction";

    public string Name => "extract";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model ?? throw new InvalidOperationException("extract runs after resolve");
        if (model.Policy.Defenses?.Extraction is not { } extraction)
        {
            return StageOutcome.Pass;
        }

        var caller = context.Caller ?? throw new InvalidOperationException("extract runs after authenticate");
        var request = context.Request ?? throw new InvalidOperationException("extract runs after read");
        var inferred = context.Inferred ?? throw new InvalidOperationException("extract runs after infer");
        var input = request.Inputs.FirstOrDefault(i => i.Name == extraction.Input) ?? throw new InvalidOperationException("extract runs after validate");
        var output = inferred.Outputs.FirstOrDefault(o => o.Name == extraction.Output)
            ?? throw new InvalidOperationException("the inference response lacks the output the extraction policy reads");
        var rows = checked((int)input.Shape[0]);
        var features = checked((int)input.Shape[1]);

        var key = new ExtractionKey(model.Manifest.Name, pseudonymizer.Pseudonymize(caller.Subject));
        var subject = new ExtractionSubject(extraction, model.Manifest.Version);
        var outcome = store.Observe(key, subject, input.As<float>(), features, PredictedClasses(output, rows), time.GetUtcNow());
        var verdict = outcome.Verdict;
        context.Defenses.Add(new DefenseFinding(DefenseName, extraction.Mode, verdict.W ?? double.NaN, verdict.Delta)
        {
            Flagged = verdict.RaisedEver != ExtractionSignals.None,
            RefusesRequest = false,
        });

        if (outcome.NewlyRaised != ExtractionSignals.None)
        {
            // Not the request's token: a caller who hangs up must not take the alarm down with its request.
            await alarms.RaiseAsync(key, subject, context.RequestId, outcome.NewlyRaised, verdict, CancellationToken.None).ConfigureAwait(false);
        }

        return StageOutcome.Pass;
    }

    /// <summary>
    /// Each row's predicted class from <paramref name="output"/>: the arg-max of a row of floating-point scores (the
    /// first of equal maxima; −1, skipped, for a row without a number), or the value of an integer label (−1 when
    /// negative or beyond <see cref="int.MaxValue"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The output does not hold a whole number of values per row.</exception>
    public static int[] PredictedClasses(Tensor output, int rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rows == 0)
        {
            return [];
        }

        var count = output.ElementCount;
        if (count == 0 || count % rows != 0 || (!output.DataType.IsFloatingPoint() && count != rows))
        {
            throw new InvalidOperationException("the extraction policy's output does not hold one prediction per input row");
        }

        var width = count / rows;
        var classes = new int[rows];
        for (var row = 0; row < rows; row++)
        {
            classes[row] = output.DataType switch
            {
                TensorDataType.Fp32 => ArgMax(output.As<float>().AsSpan(row * width, width)),
                TensorDataType.Fp64 => ArgMax(output.As<double>().AsSpan(row * width, width)),
                TensorDataType.Fp16 => ArgMax(output.As<Half>().AsSpan(row * width, width)),
                _ => Label(output, row),
            };
        }

        return classes;
    }

    private static int ArgMax<T>(ReadOnlySpan<T> scores)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var best = -1;
        for (var i = 0; i < scores.Length; i++)
        {
            if (!T.IsNaN(scores[i]) && (best < 0 || scores[i] > scores[best]))
            {
                best = i;
            }
        }

        return best;
    }

    private static int Label(Tensor output, int row)
    {
        long value = output.DataType switch
        {
            TensorDataType.Int8 => output.As<sbyte>()[row],
            TensorDataType.Int16 => output.As<short>()[row],
            TensorDataType.Int32 => output.As<int>()[row],
            TensorDataType.Int64 => output.As<long>()[row],
            TensorDataType.UInt8 => output.As<byte>()[row],
            TensorDataType.UInt16 => output.As<ushort>()[row],
            TensorDataType.UInt32 => output.As<uint>()[row],
            TensorDataType.UInt64 => output.As<ulong>()[row] > int.MaxValue ? -1 : (long)output.As<ulong>()[row],
            _ => throw new InvalidOperationException("the extraction policy's output is neither scores nor an integer label"),
        };
        return value is >= 0 and <= int.MaxValue ? (int)value : -1;
    }
}
