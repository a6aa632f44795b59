namespace Pipelines.Scripts

open System
open System.IO

/// How much compute an experiment script may spend.
type Budget =
    /// A smoke run well under a minute on two cores (a slice of the data, a tiny model, a few dozen steps); the tests use it.
    | Tiny
    /// The experiment itself: all the data and the model sizes it is about (minutes on a laptop).
    | Full

/// The environment an experiment script runs in: its budget, the repository, where its outputs go.
/// Scripts read it from environment variables so that a test can run them small and into a temporary directory.
[<RequireQualifiedAccess>]
module Experiment =
    /// The environment variable holding the budget, <c>tiny</c> or <c>full</c> (unset or empty: full).
    [<Literal>]
    let BudgetVariable = "PIPELINES_BUDGET"

    /// The environment variable naming the directory an experiment writes to (unset: <c>artifacts/experiments/&lt;name&gt;</c>).
    [<Literal>]
    let OutputVariable = "PIPELINES_OUTPUT"

    /// The environment variable capping the threads of each training run (unset: every processor).
    [<Literal>]
    let ThreadsVariable = "PIPELINES_THREADS"

    let private variable name =
        match Environment.GetEnvironmentVariable name with
        | null -> None
        | value when String.IsNullOrWhiteSpace value -> None
        | value -> Some(value.Trim())

    /// Reads a budget name, ignoring case: <c>tiny</c> or <c>full</c>.
    /// <exception cref="System.ArgumentException">Any other text.</exception>
    let parseBudget (text: string) : Budget =
        match text.Trim().ToLowerInvariant() with
        | "tiny" -> Tiny
        | "full" -> Full
        | _ -> invalidArg BudgetVariable $"The budget '{text}' is neither 'tiny' nor 'full'."

    /// The budget from <c>PIPELINES_BUDGET</c> (default <see cref="Budget.Full"/>).
    /// <exception cref="System.ArgumentException">The variable holds something other than tiny or full.</exception>
    let budget () : Budget =
        variable BudgetVariable |> Option.map parseBudget |> Option.defaultValue Full

    /// Chooses a value by budget: <c>Experiment.pick budget 40L 2000L</c>.
    let pick (budget: Budget) (tiny: 'T) (full: 'T) : 'T =
        match budget with
        | Tiny -> tiny
        | Full -> full

    /// Threads for each training run: <c>PIPELINES_THREADS</c>, else <paramref name="fallback"/> (for example 1 in a script
    /// that trains several small models at once).
    /// <exception cref="System.ArgumentOutOfRangeException">The variable is not a positive integer.</exception>
    let threadCountOr (fallback: int) : int =
        match variable ThreadsVariable with
        | None -> fallback
        | Some text ->
            match Int32.TryParse text with
            | true, count when count >= 1 -> count
            | _ -> raise (ArgumentOutOfRangeException(ThreadsVariable, text, "Must be a positive integer."))

    /// Threads for each training run: <c>PIPELINES_THREADS</c>, else every processor.
    /// <exception cref="System.ArgumentOutOfRangeException">The variable is not a positive integer.</exception>
    let threadCount () : int = threadCountOr Environment.ProcessorCount

    let private searchUpwards (start: string) =
        let rec search (directory: DirectoryInfo | null) =
            match directory with
            | null -> None
            | directory when File.Exists(Path.Combine(directory.FullName, "Pipelines.sln")) -> Some directory.FullName
            | directory -> search directory.Parent
        search (DirectoryInfo start)

    /// The repository's root (the directory holding <c>Pipelines.sln</c>), searched upwards from the current directory,
    /// then from this assembly's directory (a script's working directory may lie outside the repository).
    /// <exception cref="System.IO.DirectoryNotFoundException">Neither lies inside the repository.</exception>
    let repositoryRoot () : string =
        [ Directory.GetCurrentDirectory(); AppContext.BaseDirectory; Path.GetDirectoryName(typeof<Budget>.Assembly.Location) |> string ]
        |> List.filter (String.IsNullOrEmpty >> not)
        |> List.tryPick searchUpwards
        |> Option.defaultWith (fun () ->
            raise (DirectoryNotFoundException "No Pipelines.sln above the current directory or the Pipelines.Scripts assembly."))

    /// The directory an experiment writes to, created if missing: <c>PIPELINES_OUTPUT</c> when set, else
    /// <c>&lt;repository&gt;/artifacts/experiments/&lt;name&gt;</c> (ignored by git).
    let outputDirectory (name: string) : string =
        if String.IsNullOrWhiteSpace name then invalidArg (nameof name) "An experiment needs a name."
        let directory =
            variable OutputVariable
            |> Option.defaultWith (fun () -> Path.Combine(repositoryRoot (), "artifacts", "experiments", name))
        Directory.CreateDirectory(directory).FullName

    /// Prints a header line naming the experiment, its budget and threads, so logs say what ran.
    let announce (name: string) (budget: Budget) : unit =
        printfn "== %s: budget %A, %d threads, output %s" name budget (threadCount ()) (outputDirectory name)
