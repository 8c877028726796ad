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

    [Fact]
    public void A_forgotten_mark_is_not_taken_so_a_later_activation_reads()
    {
        var marks = new NewGrainIds();
        var placedElsewhere = GrainId.Create("order", "elsewhere");
        var placedHere = GrainId.Create("order", "here");
        marks.Minted(placedElsewhere);
        marks.Minted(placedHere);

        // The first call activated one grain here (its read takes the mark) and the other on another silo; both calls returned.
        Assert.True(marks.TakeIfNew(placedHere));
        marks.Forget(placedHere);
        marks.Forget(placedElsewhere);

        Assert.Equal(0, marks.Count);
        Assert.False(marks.TakeIfNew(placedElsewhere));
        marks.Forget(placedElsewhere);
        Assert.Equal(0, marks.Count);
    }
}
