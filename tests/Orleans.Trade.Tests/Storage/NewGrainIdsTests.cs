using Orleans.Runtime;
using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Storage;

public sealed class NewGrainIdsTests
{
    [Fact]
    public void A_mark_is_taken_once_and_the_count_follows_marks_and_takes()
    {
        var marks = new NewGrainIds();
        var a = GrainId.Create("order", "a");
        var b = GrainId.Create("order", "b");

        Assert.False(marks.TakeIfNew(a));
        marks.Minted(a);
        marks.Minted(b);
        Assert.Equal(2, marks.Count);

        Assert.True(marks.TakeIfNew(a));
        Assert.False(marks.TakeIfNew(a));
        Assert.Equal(1, marks.Count);
        Assert.False(marks.TakeIfNew(GrainId.Create("payment", "b")));
        Assert.True(marks.TakeIfNew(b));
        Assert.Equal(0, marks.Count);
    }
}
