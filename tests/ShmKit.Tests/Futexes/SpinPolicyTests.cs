namespace ShmKit.Tests.Futexes;

/// <summary>The spin phase of each wait strategy (counts of calls, not times).</summary>
public class SpinPolicyTests
{
    [Fact]
    public void Block_Never_Spins()
    {
        var spin = SpinPolicy.Start(ShmWaitStrategy.Block);
        Assert.False(spin.SpinOnce());
        Assert.True(spin.Blocks);
    }

    [Fact]
    public void SpinThenBlock_Spins_For_A_While_Then_Asks_To_Block()
    {
        var spin = SpinPolicy.Start(ShmWaitStrategy.SpinThenBlock);
        Assert.Equal(ShmWaitStrategy.SpinThenBlock, default(ShmWaitStrategy));
        int spins = 0;
        while (spin.SpinOnce())
        {
            spins++;
            Assert.True(spins < 10_000_000, "the spin phase never ended");
        }

        Assert.True(spin.Blocks);
        Assert.True(SpinPolicy.CanSpin ? spins > 0 : spins == 0, $"{spins} spins with {Environment.ProcessorCount} CPUs");
        Assert.False(spin.SpinOnce()); // over is over
    }

    [Fact]
    public void Stopping_Early_Ends_The_Spin_Phase()
    {
        var spin = SpinPolicy.Start(ShmWaitStrategy.SpinThenBlock);
        spin.SpinOnce();
        spin.StopSpinning();
        Assert.False(spin.SpinOnce());
    }

    [Theory]
    [InlineData(ShmWaitStrategy.BusySpin)]
    [InlineData(ShmWaitStrategy.SpinThenYield)]
    public void Spinning_Strategies_Never_Ask_To_Block(ShmWaitStrategy strategy)
    {
        var spin = SpinPolicy.Start(strategy);
        Assert.False(spin.Blocks);
        for (int i = 0; i < 2000; i++)
        {
            Assert.True(spin.SpinOnce());
        }
    }
}
