using System.Text.Json;

namespace ServerlessServe.Core.Protocol;

/// <summary>The <c>name</c>, <c>datatype</c> and <c>shape</c> members shared by tensors and tensor specs on the wire.</summary>
internal static class TensorHeaderJson
{
    public static void Write(Utf8JsonWriter writer, string name, TensorDataType dataType, long[] shape)
    {
        writer.WriteString("name"u8, name);
        writer.WriteString("datatype"u8, dataType.ToWire());
        writer.WriteStartArray("shape"u8);
        foreach (var dim in shape)
        {
            writer.WriteNumberValue(dim);
        }

        writer.WriteEndArray();
    }
}
