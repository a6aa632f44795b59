namespace Pipelines.Components.Optimization;

/// <summary>Where FOCUS applies weight decay; the paper, its official code and its toy script differ.</summary>
/// <remarks>arXiv 2501.12243. With <c>phat</c> the bias-corrected parameter average and <c>lr</c>, <c>wd</c> the rates.</remarks>
public enum FocusWeightDecayPlacement
{
    /// <summary>
    /// The paper's algorithm (default): <c>theta &lt;- theta - lr*wd*phat</c>, then the sign step, whose attraction
    /// term <c>sign(theta - phat)</c> sees the decayed theta.
    /// </summary>
    TowardEmaBeforeStep,

    /// <summary>The official code: the sign step from the undecayed theta, then <c>theta &lt;- theta - lr*wd*phat</c>.</summary>
    TowardEmaAfterStep,

    /// <summary>The toy-landscape script: plain decoupled decay inside the step, <c>theta &lt;- theta - lr*(... + wd*theta)</c>.</summary>
    Plain,
}
