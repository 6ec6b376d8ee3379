using Grid.Gateway.Admin;

namespace Grid.Gateway.Tests.Admin;

public class AdminAuthorizationTests
{
    [Theory]
    [InlineData("Bearer s3cret-token", true)]
    [InlineData("bearer s3cret-token", true)]
    [InlineData("Bearer  s3cret-token ", true)]
    [InlineData("Bearer s3cret-tokenX", false)]
    [InlineData("Bearer s3cret", false)]
    [InlineData("Basic s3cret-token", false)]
    [InlineData("s3cret-token", false)]
    [InlineData("", false)]
    public void IsAuthorized_Header_MatchesOnlyTheBearerToken(string header, bool expected)
    {
        Assert.Equal(expected, AdminAuthorization.IsAuthorized(header, "s3cret-token"));
    }
}
