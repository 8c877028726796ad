using System.Collections.Concurrent;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace Orleans.Trade.Silo;

/// <summary>
/// Remembers which <see cref="GrainInterfaceType"/> each grain interface has. Orleans' <see cref="GrainInterfaceTypeResolver"/>
/// works it out again on every <c>GetGrain</c> (attribute reflection, then the type name formatted by convention): about 4%
/// of the silo's CPU under a flash sale, where every checkout makes grain references to new orders. Registered ahead of
/// Orleans' own providers, it answers what they and the convention answer, computed once per interface.
/// </summary>
public sealed class CachedGrainInterfaceTypes(IServiceProvider services) : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, GrainInterfaceType> _known = new();
    private GrainInterfaceTypeResolver? _uncached;

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        if (!_known.TryGetValue(type, out grainInterfaceType))
        {
            grainInterfaceType = _known.GetOrAdd(type, Uncached().GetGrainInterfaceType(type));
        }
        return true;
    }

    /// <summary>A resolver over every other provider, as Orleans' own would be without this one.</summary>
    private GrainInterfaceTypeResolver Uncached() => _uncached ??= new GrainInterfaceTypeResolver(
        services.GetServices<IGrainInterfaceTypeProvider>().Where(p => p is not CachedGrainInterfaceTypes),
        services.GetRequiredService<TypeConverter>());

    /// <summary>Puts the cache first among the providers, so Orleans asks it before reflecting.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.Insert(0, ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider>(sp => new CachedGrainInterfaceTypes(sp)));
}
