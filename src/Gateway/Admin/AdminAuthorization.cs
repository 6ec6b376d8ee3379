using System.Security.Cryptography;
using System.Text;
using Grid.Gateway.Configuration;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Grid.Gateway.Admin;

/// <summary>
/// With <c>--admin_token</c> set, admin calls must carry <c>Authorization: Bearer &lt;token&gt;</c>;
/// anything else is answered 401 before the handler runs, so it changes nothing. The token is
/// compared in constant time. Without a token the admin API is open (bind the gateway to a
/// private address).
/// </summary>
public static class AdminAuthorization
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var token = http.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.AdminToken;
        if (token is null || IsAuthorized(http.Request.Headers.Authorization.ToString(), token))
        {
            return await next(invocation);
        }
        http.Response.Headers.WWWAuthenticate = "Bearer";
        var message = http.Request.Headers.Authorization.Count == 0
            ? "This admin API requires an Authorization header with the admin bearer token (the gateway runs with --admin_token)"
            : "The admin bearer token is not valid";
        await RestErrors.WriteAsync(http, StatusCodes.Status401Unauthorized, message);
        return Results.Empty;
    }

    public static bool IsAuthorized(string header, string token)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var given = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
