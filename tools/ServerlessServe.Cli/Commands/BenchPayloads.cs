using System.Globalization;
using System.Text;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Cli.Commands;

/// <summary>Fixed request bodies for the sample models (one row each; JSON or the binary tensor extension).</summary>
internal static class BenchPayloads
{
    /// <summary>The input tensor a request for <paramref name="model"/> carries: name, V2 datatype, shape and values.</summary>
    public static (string Name, string Datatype, int[] Shape, double[] Values) Input(string model) => model switch
    {
        CustomerNotesSample.Name => (CustomerNotesSample.InputName, "INT64", new[] { 1 }, new double[] { 1 }),
        ResNet18Sample.Name => (ResNet18Sample.InputName, "FP32", new[] { 1, 3, 224, 224 }, Enumerable.Repeat(0.5, 3 * 224 * 224).ToArray()),

        // A real image: the first row of the test split (a handwritten 0).
        DigitsSample.Name => (DigitsSample.InputName, "FP32", new[] { 1, DigitsData.PixelCount }, Array.ConvertAll(DigitsData.Load().Test.Row(0), p => (double)p)),
        _ => (CreditRiskSample.InputName, "FP32", new[] { 1, CreditRiskSample.FeatureCount }, Enumerable.Repeat(0.5, CreditRiskSample.FeatureCount).ToArray()),
    };

    /// <summary>The input of <see cref="Input(string)"/> repeated <paramref name="rows"/> times along the first dimension.</summary>
    public static (string Name, string Datatype, int[] Shape, double[] Values) Input(string model, int rows)
    {
        var (name, datatype, shape, values) = Input(model);
        if (rows == 1)
        {
            return (name, datatype, shape, values);
        }

        var repeated = new double[values.Length * rows];
        for (var r = 0; r < rows; r++)
        {
            values.CopyTo(repeated, r * values.Length);
        }

        return (name, datatype, [shape[0] * rows, .. shape[1..]], repeated);
    }

    public static BenchPayload For(string model, bool binary, int rows = 1)
    {
        var (name, datatype, shape, values) = Input(model, rows);
        var isInt64 = datatype == "INT64";
        var shapeJson = string.Join(',', shape);
        if (!binary)
        {
            var data = string.Join(',', values.Select(v => isInt64 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture)));
            var json = $$"""{"inputs":[{"name":"{{name}}","shape":[{{shapeJson}}],"datatype":"{{datatype}}","data":[{{data}}]}]}""";
            return new BenchPayload(Encoding.UTF8.GetBytes(json), "application/json", null);
        }

        var elementSize = isInt64 ? 8 : 4;
        var raw = new byte[values.Length * elementSize];
        for (var i = 0; i < values.Length; i++)
        {
            if (isInt64)
            {
                BitConverter.TryWriteBytes(raw.AsSpan(i * 8), (long)values[i]);
            }
            else
            {
                BitConverter.TryWriteBytes(raw.AsSpan(i * 4), (float)values[i]);
            }
        }

        var header = Encoding.UTF8.GetBytes(
            $$$"""{"inputs":[{"name":"{{{name}}}","shape":[{{{shapeJson}}}],"datatype":"{{{datatype}}}","parameters":{"binary_data_size":{{{raw.Length}}}}}],"parameters":{"binary_data_output":true}}""");
        return new BenchPayload([.. header, .. raw], "application/octet-stream", header.Length);
    }
}
