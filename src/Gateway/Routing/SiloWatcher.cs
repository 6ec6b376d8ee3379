using Grid.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Grid.Gateway.Routing;

/// <summary>
/// Polls the cluster's membership (through any silo) every <see cref="Interval"/> and tells the
/// <see cref="ModelRouter"/> which silos are active, so calls in flight to a silo that was
/// declared dead are ended and retried at once instead of waiting out Orleans' 30 s response
/// timeout, and no new call is sent there.
/// </summary>
public sealed partial class SiloWatcher(IGrainFactory grains, ModelRouter router, ILogger<SiloWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var silos = await grains.GetGrain<IClusterInfoGrain>(0).GetSilosAsync().WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                router.SetActiveSilos(silos.Where(s => s.Status == "Active").Select(s => s.Address).ToHashSet(StringComparer.Ordinal));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PollFailed(logger, e.GetType().Name, e.Message);
            }
            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Debug, "Reading cluster membership failed ({Kind}: {Reason}); keeping the last view")]
        public static partial void PollFailed(ILogger logger, string kind, string reason);
    }
}
