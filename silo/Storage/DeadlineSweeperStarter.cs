using Orleans.Trade.Common;

namespace Orleans.Trade.Silo.Storage;

/// <summary>Starts the cluster's deadline sweeper once this silo is active (idempotent: the sweeper may already run elsewhere).</summary>
public sealed class DeadlineSweeperStarter(IGrainFactory grains, ILogger<DeadlineSweeperStarter> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeadlineSweeperStarter), ServiceLifecycleStage.Active, async _ =>
        {
            try
            {
                await grains.GetGrain<IDeadlineSweeperGrain>(IDeadlineSweeperGrain.Key).Start();
            }
            catch (Exception ex)
            {
                // Its reminder starts it within a minute; start-up must not fail over it.
                logger.LogWarning(ex, "Could not start the deadline sweeper now; its reminder will");
            }
        });
}
