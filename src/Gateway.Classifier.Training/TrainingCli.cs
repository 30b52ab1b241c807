using System.CommandLine;

namespace Gateway.Classifier.Training;

/// <summary>The command line (named so it does not collide with the gateway's <c>Program</c> in tests that see both).</summary>
internal static class TrainingCli
{
    public static int Main(string[] args)
    {
        var corpus = new Option<string>("--corpus")
        {
            Description = "Labelled category corpus (JSONL: category, group, split, messages).",
            DefaultValueFactory = _ => "src/Gateway.Classifier.Training/Corpus/categories.jsonl",
        };
        var preferences = new Option<string[]>("--preferences")
        {
            Description = "Preference JSONL files (prompt, strong_correct, weak_correct[, subject]); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "models/classifier" };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same data and seed give the same model.", DefaultValueFactory = _ => 42 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the category model.", DefaultValueFactory = _ => 16 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the category model.", DefaultValueFactory = _ => 5 };
        var lr = new Option<float>("--learning-rate") { Description = "AdaGrad learning rate of the category model.", DefaultValueFactory = _ => 0.02f };
        var model = new Option<string>("--model") { Description = "ONNX model to use.", DefaultValueFactory = _ => "models/classifier/classifier.onnx" };
        var data = new Option<string>("--data") { Description = "Prompts to calibrate on (JSONL: prompt or messages, optional strong_correct/weak_correct).", Required = true };
        var share = new Option<double?>("--strong-share") { Description = "Target share of prompts sent to the strong model (0-1)." };
        var pgr = new Option<double?>("--target-pgr") { Description = "Target share of the weak-to-strong quality gap to recover (0-1)." };

        var train = new Command("train", "Train the classifier, export ONNX + labels + model card, and evaluate the exported model.")
        {
            corpus, preferences, output, seed, hidden, epochs, lr,
        };
        train.SetAction(parse => TrainingRun.Train(
            parse.GetValue(corpus)!,
            parse.GetValue(preferences) ?? [],
            parse.GetValue(output)!,
            new TrainingOptions { Seed = parse.GetValue(seed), Hidden = parse.GetValue(hidden), CategoryEpochs = parse.GetValue(epochs), CategoryLearningRate = parse.GetValue(lr) },
            Console.Out));

        var validate = new Command("validate", "Tune on a validation split carved from the training split; prints accuracy per epoch, writes nothing.")
        {
            corpus, seed, hidden, epochs, lr,
        };
        validate.SetAction(parse => TrainingRun.Validate(
            parse.GetValue(corpus)!,
            new TrainingOptions { Seed = parse.GetValue(seed), Hidden = parse.GetValue(hidden), CategoryEpochs = parse.GetValue(epochs), CategoryLearningRate = parse.GetValue(lr) },
            Console.Out));

        var evaluate = new Command("evaluate", "Evaluate a model on the held-out splits.") { model, corpus, preferences };
        evaluate.SetAction(parse => TrainingRun.EvaluateCommand(
            parse.GetValue(model)!, parse.GetValue(corpus)!, parse.GetValue(preferences) ?? [], Console.Out));

        var calibrate = new Command("calibrate", "Print the needs_strong threshold that meets a target share of strong calls or a target quality.")
        {
            model, data, share, pgr,
        };
        calibrate.SetAction(parse => TrainingRun.CalibrateCommand(
            parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(share), parse.GetValue(pgr), Console.Out));

        var text = new Argument<string[]>("text") { Description = "Prompts to classify, one per argument." };
        var classify = new Command("classify", "Classify prompts with a model and print the contract JSON, one line each.") { model, text };
        classify.SetAction(parse => TrainingRun.ClassifyCommand(parse.GetValue(model)!, parse.GetValue(text) ?? [], Console.Out));

        var root = new RootCommand("Trains, evaluates and calibrates the gateway's prompt classifier.") { train, validate, evaluate, calibrate, classify };
        return root.Parse(args).Invoke();
    }
}
