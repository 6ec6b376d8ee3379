using System.Text;
using Grid.Engines.TensorFlow.Checkpoint;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class Crc32CTests
{
    [Fact]
    public void Compute_CheckString_MatchesPublishedValue()
    {
        // The CRC-32C check value of "123456789" (RFC 3720 family).
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Extend_InPieces_EqualsWhole()
    {
        var data = Enumerable.Range(0, 100).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(Crc32C.Compute(data), Crc32C.Extend(Crc32C.Compute(data.AsSpan(0, 13)), data.AsSpan(13)));
    }

    [Fact]
    public void Mask_ThenUnmask_ReturnsCrcAndDiffersFromIt()
    {
        var crc = Crc32C.Compute(Encoding.ASCII.GetBytes("tensor"));
        Assert.NotEqual(crc, Crc32C.Mask(crc));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
    }
}
