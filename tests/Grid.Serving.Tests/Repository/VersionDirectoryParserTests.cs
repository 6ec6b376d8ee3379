using Grid.Serving.Repository;

namespace Grid.Serving.Tests.Repository;

public class VersionDirectoryParserTests
{
    [Theory]
    [InlineData("00000123", 123L)]
    [InlineData("1", 1L)]
    [InlineData("0", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void TryParse_DecimalName_ReturnsVersion(string name, long expected)
    {
        // Act
        var parsed = VersionDirectoryParser.TryParse(name, out var version);

        // Assert
        Assert.True(parsed);
        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1a")]
    [InlineData("v1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("124.tmp")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775808")]
    public void TryParse_NotAVersionName_ReturnsFalse(string name)
    {
        // Act
        var parsed = VersionDirectoryParser.TryParse(name, out _);

        // Assert
        Assert.False(parsed);
    }
}
