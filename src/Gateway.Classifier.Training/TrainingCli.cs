using System.CommandLine;

namespace Gateway.Classifier.Training;

/// <summary>The command line (named so it does not collide with the gateway's <c>Program</c> in tests that see both).</summary>
internal static class TrainingCli
{
    public static int Main(string[] args)
    {
        var preferences = new Option<string[]>("--preferences")
        {
            Description = "Preference JSONL files (prompt, strong_correct, weak_correct[, subject]); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "models/classifier" };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same data and seed give the same model.", DefaultValueFactory = _ => 42 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the category model.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the category model.", DefaultValueFactory = _ => 4 };
        var lr = new Option<float>("--learning-rate") { Description = "AdaGrad learning rate of the category model.", DefaultValueFactory = _ => 0.02f };
        var model = new Option<string>("--model") { Description = "ONNX model to use.", DefaultValueFactory = _ => "models/classifier/classifier.onnx" };
        var data = new Option<string>("--data") { Description = "Prompts to calibrate on (JSONL: prompt or messages, optional strong_correct/weak_correct).", Required = true };
        var share = new Option<double?>("--strong-share") { Description = "Target share of prompts sent to the strong model (0-1)." };
        var pgr = new Option<double?>("--target-pgr") { Description = "Target share of the weak-to-strong quality gap to recover (0-1)." };

        var categories = new Option<string>("--categories")
        {
            Description = "Real labelled prompts: a folder of JSONL files or one file (text, label, source, lang[, messages]).",
            DefaultValueFactory = _ => "../shared/data/categories",
        };
        var generated = new Option<string?>("--generated") { Description = "Also train on the generated corpus at this path (never tested on)." };
        var cache = new Option<string>("--cache") { Description = "Folder for cached MiniLM outputs.", DefaultValueFactory = _ => "artifacts/classifier-cache" };
        var dims = new Option<int>("--table-dims") { Description = "PCA dimensions of the token table.", DefaultValueFactory = _ => 128 };
        var evaluation = new Option<Evaluation>("--evaluate")
        {
            Description = "Held-out evaluations for the model card: All, Categories, NeedsStrong or None (then the card has no quality figures).",
            DefaultValueFactory = _ => Evaluation.All,
        };
        var groupIntercepts = new Option<bool>("--group-intercepts")
        {
            Description = "needs_strong: one intercept per preference source/subject while training (the weights then learn within-source ranking).",
        };
        var neighbourStudy = new Option<int>("--neighbour-study")
        {
            Description = "needs_strong evaluation: also score a similarity-weighted k-nearest-neighbour ranker with this many neighbours (0: off).",
        };
        var ngramDropout = new Option<float>("--ngram-dropout")
        {
            Description = "Share of training examples seen without their n-grams each epoch (the embedding path learns to classify alone).",
        };
        var sourcePower = new Option<double>("--source-power")
        {
            Description = "Within a label, a source's weight grows with its size to this power (0.5: square root; 0: sources equal).",
            DefaultValueFactory = _ => 0.5,
        };
        TrainingOptions Options(ParseResult parse) => new()
        {
            Seed = parse.GetValue(seed), Hidden = parse.GetValue(hidden), CategoryEpochs = parse.GetValue(epochs),
            CategoryLearningRate = parse.GetValue(lr), TableDimensions = parse.GetValue(dims),
            GroupIntercepts = parse.GetValue(groupIntercepts), NeighbourStudy = parse.GetValue(neighbourStudy),
            NgramDropout = parse.GetValue(ngramDropout), SourcePower = parse.GetValue(sourcePower),
        };

        var train = new Command("train", "Train the classifier, export ONNX + labels + model card, and evaluate the recipe held out by source.")
        {
            categories, generated, preferences, output, cache, dims, seed, hidden, epochs, lr, evaluation, groupIntercepts, neighbourStudy,
            ngramDropout, sourcePower,
        };
        train.SetAction(parse => TrainingRun.Train(
            parse.GetValue(categories)!, parse.GetValue(generated), parse.GetValue(preferences) ?? [], parse.GetValue(output)!,
            Options(parse), Console.Out, evaluate: parse.GetValue(evaluation), cacheDir: parse.GetValue(cache)!));

        var designs = new Option<string[]>("--designs")
        {
            Description = $"Designs to compare: {string.Join(", ", StudyCommand.Designs.Keys)}.",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["ngrams", "table", "table+ngrams"],
        };
        var study = new Command("study", "Compare feature designs: leave-one-source-out and a stratified split over the real corpus, beside baselines.")
        {
            categories, generated, designs, cache, dims, seed, hidden, epochs, lr, ngramDropout, sourcePower,
        };
        study.SetAction(parse => StudyCommand.Run(
            parse.GetValue(categories)!, parse.GetValue(generated), parse.GetValue(designs) ?? [], parse.GetValue(cache)!, Options(parse), Console.Out));

        var labelled = new Option<string>("--data") { Description = "Labelled prompts to evaluate on (file or folder; text, label[, source, lang, messages]).", Required = true };
        var evaluate = new Command("evaluate", "Classify labelled prompts with a model; accuracy and macro-F1 beside the majority and random baselines.") { model, labelled };
        evaluate.SetAction(parse => TrainingRun.EvaluateCommand(parse.GetValue(model)!, parse.GetValue(labelled)!, Console.Out));

        var calibrate = new Command("calibrate", "Print the needs_strong threshold that meets a target share of strong calls or a target quality.")
        {
            model, data, share, pgr,
        };
        calibrate.SetAction(parse => TrainingRun.CalibrateCommand(
            parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(share), parse.GetValue(pgr), Console.Out));

        var text = new Argument<string[]>("text") { Description = "Prompts to classify, one per argument." };
        var classify = new Command("classify", "Classify prompts with a model and print the contract JSON, one line each.") { model, text };
        classify.SetAction(parse => TrainingRun.ClassifyCommand(parse.GetValue(model)!, parse.GetValue(text) ?? [], Console.Out));

        var root = new RootCommand("Trains, evaluates and calibrates the gateway's prompt classifier.") { study, train, evaluate, calibrate, classify };
        return root.Parse(args).Invoke();
    }
}
