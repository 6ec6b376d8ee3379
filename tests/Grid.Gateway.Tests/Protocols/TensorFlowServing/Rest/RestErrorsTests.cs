using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Serving;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing.Rest;

public class RestErrorsTests
{
    [Theory]
    [InlineData(ServingStatusCode.Ok, 200)]
    [InlineData(ServingStatusCode.Cancelled, 499)]
    [InlineData(ServingStatusCode.Unknown, 500)]
    [InlineData(ServingStatusCode.InvalidArgument, 400)]
    [InlineData(ServingStatusCode.DeadlineExceeded, 504)]
    [InlineData(ServingStatusCode.NotFound, 404)]
    [InlineData(ServingStatusCode.AlreadyExists, 409)]
    [InlineData(ServingStatusCode.PermissionDenied, 403)]
    [InlineData(ServingStatusCode.ResourceExhausted, 429)]
    [InlineData(ServingStatusCode.FailedPrecondition, 400)]
    [InlineData(ServingStatusCode.Aborted, 409)]
    [InlineData(ServingStatusCode.OutOfRange, 400)]
    [InlineData(ServingStatusCode.Unimplemented, 501)]
    [InlineData(ServingStatusCode.Internal, 500)]
    [InlineData(ServingStatusCode.Unavailable, 503)]
    [InlineData(ServingStatusCode.DataLoss, 500)]
    [InlineData(ServingStatusCode.Unauthenticated, 401)]
    public void HttpStatus_CanonicalCode_MapsAsTensorFlowServing(ServingStatusCode code, int expected)
    {
        // Act
        var status = RestErrors.HttpStatus(code);

        // Assert
        Assert.Equal(expected, status);
    }

    [Fact]
    public void HttpStatus_EveryDefinedCode_IsCoveredByTheTable()
    {
        // Arrange: the theory above lists each code once; a new code must be added there
        var covered = typeof(RestErrorsTests).GetMethod(nameof(HttpStatus_CanonicalCode_MapsAsTensorFlowServing))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false)
            .Cast<InlineDataAttribute>()
            .Select(a => (ServingStatusCode)a.GetData(null!).Single()[0])
            .ToHashSet();

        // Act
        var missing = Enum.GetValues<ServingStatusCode>().Where(c => !covered.Contains(c)).ToList();

        // Assert
        Assert.Empty(missing);
    }

    [Fact]
    public void Map_ServingException_UsesItsCodeAndMessage()
    {
        // Arrange
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        var error = ServingException.NotFound("Servable not found for request: Latest(m)");

        // Act
        var (status, message) = RestErrors.Map(error, context);

        // Assert
        Assert.Equal(404, status);
        Assert.Equal("Servable not found for request: Latest(m)", message);
    }

    [Fact]
    public void Map_UnexpectedException_IsInternalError()
    {
        // Arrange
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();

        // Act
        var (status, message) = RestErrors.Map(new InvalidOperationException("boom"), context);

        // Assert
        Assert.Equal(500, status);
        Assert.Equal("Internal error: boom", message);
    }
}
