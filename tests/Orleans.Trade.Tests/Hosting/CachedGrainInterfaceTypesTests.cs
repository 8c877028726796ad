using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo;

namespace Orleans.Trade.Tests.Hosting;

[GrainInterfaceType("trade-test-aliased")]
public interface IAliasedTestGrain : IGrainWithStringKey
{
    Task Ping();
}

public interface IGenericTestGrain<T> : IGrainWithStringKey
{
    Task<T> Echo(T value);
}

public sealed class CachedGrainInterfaceTypesTests
{
    private static IServiceCollection Services()
    {
        var services = new ServiceCollection().AddSerializer();
        services.AddSingleton<IGrainInterfaceTypeProvider, AttributeGrainInterfaceTypeProvider>();
        services.AddSingleton<GrainInterfaceTypeResolver>();
        return services;
    }

    [Fact]
    public void The_cache_answers_first_and_gives_every_interface_the_type_Orleans_would_give_it()
    {
        var plain = Services().BuildServiceProvider().GetRequiredService<GrainInterfaceTypeResolver>();
        var services = Services();
        CachedGrainInterfaceTypes.AddTo(services);
        var provider = services.BuildServiceProvider();
        var cached = provider.GetRequiredService<GrainInterfaceTypeResolver>();

        Assert.IsType<CachedGrainInterfaceTypes>(provider.GetServices<IGrainInterfaceTypeProvider>().First());
        Type[] interfaces = [typeof(IOrderGrain), typeof(ISkuGrain), typeof(IAliasedTestGrain), typeof(IGenericTestGrain<string>), typeof(IGenericTestGrain<int>)];
        foreach (var type in interfaces)
        {
            // Twice: the first computes, the second comes from the cache; both must match Orleans' own answer.
            Assert.Equal(plain.GetGrainInterfaceType(type), cached.GetGrainInterfaceType(type));
            Assert.Equal(plain.GetGrainInterfaceType(type), cached.GetGrainInterfaceType(type));
        }
        Assert.Equal("trade-test-aliased", cached.GetGrainInterfaceType(typeof(IAliasedTestGrain)).ToString());
        Assert.NotEqual(cached.GetGrainInterfaceType(typeof(IGenericTestGrain<string>)), cached.GetGrainInterfaceType(typeof(IGenericTestGrain<int>)));
    }
}
