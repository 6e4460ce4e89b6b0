using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class TensorTests
{
    [Fact]
    public void As_SameSizeOtherSignedness_Throws()
    {
        var tensor = new Tensor("x", TensorDataType.Int32, [1], new[] { -1 });

        Assert.Equal(new[] { -1 }, tensor.As<int>());
        Assert.Throws<InvalidOperationException>(() => tensor.As<uint>());
        Assert.Throws<InvalidOperationException>(() => new Tensor("b", TensorDataType.Int8, [1], new sbyte[] { -1 }).As<byte>());
    }
}
