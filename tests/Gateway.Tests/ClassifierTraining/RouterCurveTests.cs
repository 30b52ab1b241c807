using Gateway.Classifier.Training;

namespace Gateway.Tests.ClassifierTraining;

public sealed class RouterCurveTests
{
    // Four prompts: 0 and 3 need the strong model (only it is right), 1 both get right, 2 neither.
    private static readonly bool[] Strong = [true, true, false, true];
    private static readonly bool[] Weak = [false, true, false, false];

    [Fact]
    public void Of_OracleOrder_RecoversTheGapWithTheFewestStrongCalls()
    {
        var curve = RouterCurve.Of([0.9f, 0.1f, 0.2f, 0.8f], Strong, Weak);

        Assert.Equal(0.25, curve.WeakQuality);
        Assert.Equal(0.75, curve.StrongQuality);
        Assert.Equal(0.75, curve.Apgr, 6);
        Assert.Equal(0.25, curve.Cpt50);
        Assert.Equal(0.5, curve.Cpt80);
    }

    [Fact]
    public void Of_ReversedOrder_ScoresBelowRandom()
    {
        var curve = RouterCurve.Of([0.1f, 0.9f, 0.8f, 0.2f], Strong, Weak);

        Assert.Equal(0.25, curve.Apgr, 6);
        Assert.Equal(0.75, curve.Cpt50);
    }

    [Fact]
    public void Of_AllScoresTied_IsTheRandomRouter()
    {
        var curve = RouterCurve.Of([0.5f, 0.5f, 0.5f, 0.5f], Strong, Weak);

        Assert.Equal(0.5, curve.Apgr, 6);
        Assert.Equal([0.0, 1.0], curve.Shares);
    }

    [Fact]
    public void ForShare_ReturnsTheLowestScoreAmongTheTopShare()
    {
        float[] scores = [0.1f, 0.9f, 0.5f, 0.7f];

        var threshold = Calibration.ForShare(scores, 0.5);

        Assert.Equal(0.7f, threshold);
        Assert.Equal(0.5, Calibration.ShareAtOrAbove(scores, threshold));
        Assert.Equal(0, Calibration.ShareAtOrAbove(scores, Calibration.ForShare(scores, 0)));
        Assert.Equal(1, Calibration.ShareAtOrAbove(scores, Calibration.ForShare(scores, 1)));
    }

    [Fact]
    public void ForQuality_FindsTheSmallestShareReachingTheTarget()
    {
        var (threshold, share) = Calibration.ForQuality([0.9f, 0.1f, 0.2f, 0.8f], Strong, Weak, 0.8);

        Assert.Equal(0.8f, threshold);
        Assert.Equal(0.5, share);
    }
}
