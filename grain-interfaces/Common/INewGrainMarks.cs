namespace Orleans.Trade.Common;

/// <summary>
/// This silo's marks of grains whose id was minted just now and that have no stored state yet, so that their first activation
/// here skips its storage read. Whoever makes the first call to such a grain marks it before the call and forgets it once the
/// call has returned: in a cluster that call may activate the grain on another silo, and a later activation here must read
/// what that one wrote. For code outside the grains (the HTTP API); the silo's implementation is its <c>NewGrainIds</c>.
/// </summary>
public interface INewGrainMarks
{
    void Minted(GrainId grain);

    void Forget(GrainId grain);
}
