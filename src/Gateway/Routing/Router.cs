using System.Globalization;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;

namespace Gateway.Routing;

/// <summary>
/// Decides the route of a request from the policy snapshot, the classification and the request's
/// facts (ARCHITECTURE §1, Decide). It reads the snapshot and never mutates it.
/// <list type="number">
/// <item>A concrete model or route name pins a route if the policy lets the team pin it (else 403).</item>
/// <item>A team over a <c>reject</c> budget gets 429.</item>
/// <item>Rules run in order: exclusions and floor/cap changes add up; the first matching rule that pins an available route decides.</item>
/// <item>A team over a <c>downgrade</c> budget goes to its downgrade route (or the cheapest candidate), whatever decided so far.</item>
/// <item>Otherwise the client's pin, else the objective over the candidates (available, not excluded), else the default route.</item>
/// </list>
/// Expected quality of a route for a prompt = Σ p(category) × quality(route, category), lowered for
/// hard prompts: − needs_strong × (best candidate's quality − this route's). Estimated cost = estimated
/// prompt tokens (request bytes / 4) and max_tokens (or the objective's expected output) at the route's prices.
/// Pure: no I/O, no clock, no live counters; the team's budget state comes in with the facts, so the live path,
/// explain and any replay of recorded facts decide alike.
/// </summary>
public sealed class Router
{
    private const decimal TokensPerPriceUnit = 1_000_000m;
    private const int BytesPerToken = 4;

    /// <exception cref="OpenAiException">404 unknown model, 403 pin not allowed, 429 budget exhausted (reject), 503 nothing servable.</exception>
    public RouteDecision Decide(RoutingPolicy policy, OpenAiRequest request, PromptClassification? classification, RequestFacts facts, DecisionTrace? trace = null) =>
        Decide(policy, request.Shape, classification, facts, trace);

    /// <summary>Decides from the request's shape alone: what the live path, explain and a replay of the ledger all pass.</summary>
    /// <exception cref="OpenAiException">404 unknown model, 403 pin not allowed, 429 budget exhausted (reject), 503 nothing servable.</exception>
    /// <param name="matchedRules">When given (one slot per rule), set for each rule whose conditions matched: what a replay counts without a trace.</param>
    public RouteDecision Decide(RoutingPolicy policy, RequestShape request, PromptClassification? classification, RequestFacts facts, DecisionTrace? trace = null,
        bool[]? matchedRules = null)
    {
        var requested = request.Model;
        if (request.Operation == OpenAiOperation.Embeddings)
        {
            // Embedding vectors are only comparable within one model, so the client names it.
            var embeddingRoute = policy.RoutesByModel.GetValueOrDefault(requested)
                ?? throw (requested == OpenAiRequest.AutoModel ? OpenAiErrors.EmbeddingsNeedAModel(policy.RoutesByModel.Where(m => m.Value.CanBePinnedBy(facts.Team)).Select(m => m.Key)) : OpenAiErrors.ModelNotFound(requested));
            CheckPin(embeddingRoute, requested, facts.Team);
            return Finish(policy, embeddingRoute, requested, DecisionVia.Model, null, $"model '{requested}' named by the client", null);
        }

        var promptTokens = (request.BodyLength + BytesPerToken - 1) / BytesPerToken;
        // Every choice (n, best_of) is generated and billed.
        var outputTokens = (int)Math.Min(int.MaxValue,
            (long)(request.MaxTokens ?? policy.Objective?.ExpectedOutputTokens ?? facts.TypicalOutputTokens ?? PolicyObjective.DefaultExpectedOutputTokens)
            * request.Choices);
        if (trace is not null)
        {
            trace.EstimatedPromptTokens = promptTokens;
            trace.EstimatedOutputTokens = outputTokens;
            trace.Objective = policy.Objective is { } o ? PolicyObjective.Name(o.Type) : null;
        }

        // 1. The client's pin.
        PolicyRoute? clientPin = null;
        var clientModel = "";
        if (!string.Equals(requested, OpenAiRequest.AutoModel, StringComparison.Ordinal))
        {
            if (policy.RoutesByName.TryGetValue(requested, out var named))
            {
                clientPin = named;
                clientModel = named.Model;
            }
            else
            {
                clientPin = policy.RoutesByModel.GetValueOrDefault(requested) ?? throw OpenAiErrors.ModelNotFound(requested);
                clientModel = requested;
            }

            CheckPin(clientPin, requested, facts.Team);
            if (CannotServe(clientPin, request) is { } why)
            {
                throw OpenAiErrors.RouteCannotServe(requested, clientPin.Name, why);
            }

            if (trace is not null)
            {
                trace.PinnedByClient = clientPin.Name;
            }
        }

        // 2. Budgets: the team's (policy) and the key's own (key store); a reject refuses, a downgrade downgrades, the team's first.
        var teamBudget = policy.Budgets.GetValueOrDefault(facts.Team);
        var teamOver = teamBudget is not null && OverBudget(teamBudget, facts.Budget, trace, key: false);
        var keyOver = facts.KeyBudget is { } keyBudget && OverBudget(keyBudget, facts.KeySpend, trace, key: true);
        if (teamOver && teamBudget!.OnExceed == BudgetAction.Reject)
        {
            throw BudgetGate.Exceeded(facts.Budget, teamBudget);
        }

        if (keyOver && facts.KeyBudget!.OnExceed == BudgetAction.Reject)
        {
            throw BudgetGate.Exceeded(facts.KeySpend, facts.KeyBudget);
        }

        var budget = teamOver ? teamBudget : keyOver ? facts.KeyBudget : null;
        var overBudget = budget is not null;

        // A follow-up stays with the provider holding the response it continues (the client may name another model there).
        if (facts.FollowUpOf is { } origin && (clientPin is null || clientPin.Upstream != origin.Upstream || clientPin.InProcess))
        {
            var holder = policy.RoutesByName.GetValueOrDefault(origin.Route) is { Available: true } same && same.Upstream == origin.Upstream
                ? same
                : policy.Routes.FirstOrDefault(r => r.Available && !r.InProcess && r.Upstream == origin.Upstream)
                  ?? throw OpenAiErrors.PreviousResponseUnreachable(origin.Route, origin.Upstream);
            var decision = Finish(policy, holder, holder.Model, DecisionVia.FollowUp, null,
                $"continues a response created on route '{origin.Route}' (upstream '{origin.Upstream}'): '{holder.Name}' serves it", null,
                promptTokens, outputTokens);
            // Only the provider that stored the response can continue it: fallbacks elsewhere would answer "not found".
            return decision.Fallbacks.All(r => r.Upstream == origin.Upstream)
                ? decision
                : decision with { Fallbacks = decision.Fallbacks.Where(r => r.Upstream == origin.Upstream).ToArray() };
        }

        // 3. Rules.
        var floor = policy.Objective?.QualityFloor;
        var cap = policy.Objective?.CostCapUsd;
        var routes = policy.Routes;
        Span<bool> excluded = routes.Count <= 256 ? stackalloc bool[routes.Count] : new bool[routes.Count];
        string?[]? excludedBy = trace is null ? null : new string?[routes.Count];
        for (var i = 0; i < routes.Count; i++)
        {
            // What a route's kind cannot do (tools, a provider's stored state) takes it out whatever the rules say.
            if (CannotServe(routes[i], request) is { } why)
            {
                excluded[i] = true;
                if (excludedBy is not null)
                {
                    excludedBy[i] = why;
                }
            }
        }

        PolicyRule? pinningRule = null;
        for (var r = 0; r < policy.Rules.Count; r++) // indexed: foreach over the interface allocates an enumerator
        {
            var rule = policy.Rules[r];
            if (pinningRule is not null)
            {
                // Decided: later rules are not evaluated (an explanation still lists them).
                if (trace is null)
                {
                    break;
                }

                trace.Rules.Add(new RuleTrace { Name = rule.Name, Index = rule.Index, Evaluated = false });
                continue;
            }

            var ruleTrace = trace is null ? null : new RuleTrace { Name = rule.Name, Index = rule.Index };
            if (ruleTrace is not null)
            {
                trace!.Rules.Add(ruleTrace);
            }

            if (!Matches(rule, request, classification, facts, promptTokens, ruleTrace))
            {
                continue;
            }

            if (matchedRules is not null)
            {
                matchedRules[rule.Index] = true;
            }

            foreach (var name in rule.Exclude)
            {
                var index = IndexOf(routes, name);
                excluded[index] = true;
                if (excludedBy is not null)
                {
                    excludedBy[index] ??= rule.Name;
                }
            }

            floor = rule.QualityFloor ?? floor;
            cap = rule.CostCapUsd ?? cap;
            if (rule.Route is { } pin)
            {
                var pinned = policy.RoutesByName[pin];
                var unfit = CannotServe(pinned, request);
                if (pinned.Available && unfit is null)
                {
                    pinningRule = rule;
                }
                else if (ruleTrace is not null)
                {
                    ruleTrace.Effect = unfit is null
                        ? $"would pin '{pin}', which is unavailable ({pinned.UnavailableReason}); other actions applied"
                        : $"would pin '{pin}', which {unfit}; other actions applied";
                }
            }

            if (ruleTrace is not null && ruleTrace.Effect is null)
            {
                ruleTrace.Effect = Describe(rule, pinningRule == rule);
            }
        }

        if (trace is not null)
        {
            trace.QualityFloor = floor;
            trace.CostCapUsd = cap;
        }

        // 4–5. Choose.
        Span<double> probabilities = stackalloc double[PromptCategories.All.Count];
        Probabilities(classification, probabilities);
        Span<double> baseQuality = routes.Count <= 256 ? stackalloc double[routes.Count] : new double[routes.Count];
        var bestBase = 0.0;
        for (var i = 0; i < routes.Count; i++)
        {
            baseQuality[i] = BaseQuality(routes[i], classification is null ? default : probabilities);
            if (IsCandidate(routes[i], excluded[i]))
            {
                bestBase = Math.Max(bestBase, baseQuality[i]);
            }
        }

        var needsStrong = classification?.NeedsStrong ?? 0;
        PolicyRoute? chosen = null;
        string via, reason;
        if (overBudget && budget!.OnExceed == BudgetAction.Downgrade)
        {
            // A key's downgrade_to may name a route a later policy dropped: then the cheapest, as when none is named.
            chosen = budget.DowngradeTo is { } target && policy.RoutesByName.GetValueOrDefault(target) is { Available: true } downgrade && CannotServe(downgrade, request) is null
                ? downgrade
                : Cheapest(routes, excluded, promptTokens, outputTokens);
            via = DecisionVia.Budget;
            reason = $"{char.ToLowerInvariant(budget.Holder[0])}{budget.Holder[1..]} is over its budget: downgraded to '{chosen?.Name}'";
        }
        else if (pinningRule is not null)
        {
            chosen = policy.RoutesByName[pinningRule.Route!];
            via = DecisionVia.Rule;
            reason = $"rule '{pinningRule.Name}' (rules[{pinningRule.Index}]) pins route '{chosen.Name}'";
        }
        else if (clientPin is not null)
        {
            chosen = clientPin;
            via = DecisionVia.Pinned;
            reason = clientModel == clientPin.Model && requested == clientPin.Name
                ? $"route '{clientPin.Name}' pinned by the client"
                : $"model '{requested}' pinned by the client (route '{clientPin.Name}')";
        }
        else if (policy.Objective is { } objective)
        {
            (chosen, reason) = Objective(objective.Type, routes, excluded, baseQuality, needsStrong, bestBase, floor ?? 0, cap, promptTokens, outputTokens);
            via = DecisionVia.Objective;
        }
        else
        {
            via = DecisionVia.Default;
            reason = $"default route '{policy.DefaultRoute.Name}' (the policy sets no objective)";
        }

        if (chosen is null)
        {
            chosen = policy.DefaultRoute;
            via = DecisionVia.Default;
            reason = $"no candidate route is left after exclusions: default route '{chosen.Name}'";
        }

        if (trace is not null)
        {
            for (var i = 0; i < routes.Count; i++)
            {
                var route = routes[i];
                var quality = Quality(baseQuality[i], needsStrong, bestBase);
                var cost = Estimate(route.Price, promptTokens, outputTokens);
                var qualifies = IsCandidate(route, excluded[i]) && (policy.Objective?.Type == ObjectiveType.MaxQuality
                    ? cap is null || cost <= cap
                    : quality >= (floor ?? 0));
                trace.Candidates.Add(new CandidateTrace(route.Name, route.Kind, route.Model, route.Available, route.UnavailableReason,
                    excludedBy![i], Math.Round(quality, 4), cost, qualifies));
            }
        }

        var model = via == DecisionVia.Pinned ? clientModel : chosen.Model;
        var decided = Finish(policy, chosen, model, via, via == DecisionVia.Rule ? pinningRule!.Name : null, reason,
            Quality(baseQuality[IndexOf(routes, chosen.Name)], needsStrong, bestBase), promptTokens, outputTokens, request);
        // The reference route's expected quality for this prompt: "saved $X at an expected quality change of Y".
        return policy.ReferenceRoute is { } reference
            ? decided with { ReferenceQuality = Quality(baseQuality[IndexOf(routes, reference.Name)], needsStrong, bestBase) }
            : decided;
    }

    private static void CheckPin(PolicyRoute route, string requested, string team)
    {
        if (!route.CanBePinnedBy(team))
        {
            throw OpenAiErrors.ModelNotAllowed(requested, team);
        }
    }

    private static bool OverBudget(TeamBudget budget, Spend.BudgetState state, DecisionTrace? trace, bool key)
    {
        var exceeded = state.Exceeded(budget.DailyUsd, budget.MonthlyUsd);
        if (trace is not null)
        {
            var shown = new BudgetTrace(budget.Team, state.Day, budget.DailyUsd, state.Month, budget.MonthlyUsd, state.InFlight, exceeded,
                budget.OnExceed == BudgetAction.Reject ? "reject" : "downgrade");
            if (key)
            {
                trace.KeyBudget = shown;
            }
            else
            {
                trace.Budget = shown;
            }
        }

        return exceeded is not null;
    }

    private static bool IsCandidate(PolicyRoute route, bool excluded) => route.Available && !excluded;

    private static int IndexOf(IReadOnlyList<PolicyRoute> routes, string name)
    {
        for (var i = 0; i < routes.Count; i++)
        {
            if (string.Equals(routes[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"validated policy names unknown route '{name}'");
    }

    private static void Probabilities(PromptClassification? classification, Span<double> probabilities)
    {
        if (classification is null)
        {
            return;
        }

        for (var i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] = classification.Scores.TryGetValue(PromptCategories.All[i], out var p) ? p : 0;
        }
    }

    /// <summary>Σ p(category) × quality(category); an empty span (not classified): the route's unclassified quality.</summary>
    private static double BaseQuality(PolicyRoute route, ReadOnlySpan<double> probabilities)
    {
        if (probabilities.IsEmpty)
        {
            return route.UnclassifiedQuality;
        }

        var quality = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            quality += probabilities[i] * route.QualityVector[i];
        }

        return quality;
    }

    private static double Quality(double baseQuality, double needsStrong, double bestBase) =>
        Math.Clamp(baseQuality - (needsStrong * Math.Max(0, bestBase - baseQuality)), 0, 1);

    private static decimal Estimate(RoutePrice price, int promptTokens, int outputTokens) =>
        ((promptTokens * price.InputPerMTok) + (outputTokens * price.OutputPerMTok)) / TokensPerPriceUnit;

    private static PolicyRoute? Cheapest(IReadOnlyList<PolicyRoute> routes, ReadOnlySpan<bool> excluded, int promptTokens, int outputTokens)
    {
        PolicyRoute? best = null;
        var bestCost = decimal.MaxValue;
        for (var i = 0; i < routes.Count; i++)
        {
            var cost = Estimate(routes[i].Price, promptTokens, outputTokens);
            if (IsCandidate(routes[i], excluded[i]) && cost < bestCost)
            {
                (best, bestCost) = (routes[i], cost);
            }
        }

        return best;
    }

    private static (PolicyRoute? Route, string Reason) Objective(ObjectiveType type, IReadOnlyList<PolicyRoute> routes, ReadOnlySpan<bool> excluded,
        ReadOnlySpan<double> baseQuality, double needsStrong, double bestBase, double floor, decimal? cap, int promptTokens, int outputTokens)
    {
        PolicyRoute? best = null, fallback = null;
        double bestQuality = -1, fallbackQuality = -1;
        decimal bestCost = decimal.MaxValue, fallbackCost = decimal.MaxValue;
        for (var i = 0; i < routes.Count; i++)
        {
            var route = routes[i];
            if (!IsCandidate(route, excluded[i]))
            {
                continue;
            }

            var quality = Quality(baseQuality[i], needsStrong, bestBase);
            var cost = Estimate(route.Price, promptTokens, outputTokens);
            if (type == ObjectiveType.MinCost)
            {
                // Cheapest meeting the floor; ties go to the better route. Nothing meets it: the best route.
                if (quality >= floor && (cost < bestCost || (cost == bestCost && quality > bestQuality)))
                {
                    (best, bestQuality, bestCost) = (route, quality, cost);
                }

                if (quality > fallbackQuality)
                {
                    (fallback, fallbackQuality, fallbackCost) = (route, quality, cost);
                }
            }
            else
            {
                // Best fitting the cap; ties go to the cheaper route. Nothing fits: the cheapest route.
                if ((cap is null || cost <= cap) && (quality > bestQuality || (quality == bestQuality && cost < bestCost)))
                {
                    (best, bestQuality, bestCost) = (route, quality, cost);
                }

                if (cost < fallbackCost)
                {
                    (fallback, fallbackQuality, fallbackCost) = (route, quality, cost);
                }
            }
        }

        var inv = CultureInfo.InvariantCulture;
        if (best is not null)
        {
            return (best, type == ObjectiveType.MinCost
                ? string.Create(inv, $"min_cost: '{best.Name}' is the cheapest route (est. ${bestCost:0.######}) whose expected quality {bestQuality:0.###} meets the floor {floor:0.###}")
                : string.Create(inv, $"max_quality: '{best.Name}' has the best expected quality {bestQuality:0.###} within the cap ${cap:0.######} (est. ${bestCost:0.######})"));
        }

        return (fallback, fallback is null
            ? "no candidate route"
            : type == ObjectiveType.MinCost
                ? string.Create(inv, $"min_cost: no route reaches the floor {floor:0.###}; '{fallback.Name}' has the best expected quality {fallbackQuality:0.###}")
                : string.Create(inv, $"max_quality: no route fits the cap ${cap:0.######}; '{fallback.Name}' is the cheapest (est. ${fallbackCost:0.######})"));
    }

    private static RouteDecision Finish(RoutingPolicy policy, PolicyRoute route, string model, string via, string? rule, string reason,
        double? quality, int promptTokens = 0, int outputTokens = 0, RequestShape? request = null)
    {
        var fallbacks = route.Fallbacks.Count == 0 ? (IReadOnlyList<PolicyRoute>)[] : Servable(policy, route.Fallbacks, request);
        var unfit = request is { } shape ? CannotServe(route, shape) : null;
        if (!route.Available || unfit is not null)
        {
            // A client pin or the default cannot be served: its first servable fallback takes over.
            if (fallbacks.Count == 0)
            {
                throw unfit is null
                    ? OpenAiErrors.NoServableRoute(route.Name, route.UnavailableReason ?? "unavailable")
                    : OpenAiErrors.RouteCannotServe(model, route.Name, unfit);
            }

            reason = unfit is null
                ? $"{reason}; '{route.Name}' is unavailable ({route.UnavailableReason}), so its fallback '{fallbacks[0].Name}' serves"
                : $"{reason}; '{route.Name}' {unfit}, so its fallback '{fallbacks[0].Name}' serves";
            route = fallbacks[0];
            model = route.Model;
            fallbacks = fallbacks.Skip(1).ToArray();
        }

        return new RouteDecision(route, model, reason, fallbacks, via, rule,
            Estimate(route.PriceFor(model), promptTokens, outputTokens), quality, EstimatedTokens: (int)Math.Min(int.MaxValue, (long)promptTokens + outputTokens));
    }

    /// <summary>
    /// Why a route's kind cannot serve this request, or null when it can. Only a provider can call tools for the client
    /// or continue state it stored (a Responses <c>previous_response_id</c> or <c>conversation</c>); routes run in-process
    /// (local models, local adapters) can do neither.
    /// </summary>
    internal static string? CannotServe(PolicyRoute route, RequestShape request) =>
        !route.InProcess ? null
        : request.FollowUp ? "runs in-process and cannot continue a provider's stored response (previous_response_id, conversation)"
        : request.HasTools ? "runs in-process and does not call tools"
        : null;

    private static PolicyRoute[] Servable(RoutingPolicy policy, IReadOnlyList<string> names, RequestShape? request)
    {
        var servable = new List<PolicyRoute>(names.Count);
        foreach (var name in names)
        {
            if (policy.RoutesByName[name] is { Available: true } route && (request is not { } shape || CannotServe(route, shape) is null))
            {
                servable.Add(route);
            }
        }

        return [.. servable];
    }

    /// <summary>All conditions must hold. Without a trace it stops at the first that fails and builds no strings; with one it records them all.</summary>
    private static bool Matches(PolicyRule rule, RequestShape request, PromptClassification? classification, RequestFacts facts, int promptTokens, RuleTrace? trace)
    {
        var matched = true;
        var inv = CultureInfo.InvariantCulture;

        if (rule.Categories is { } categories)
        {
            var ok = classification is not null && categories.Contains(classification.Category);
            trace?.Conditions.Add(new ConditionTrace("category", string.Join("|", categories), classification?.Category ?? "not classified", ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.NeedsStrong is { } strong)
        {
            var ok = classification is not null && strong.Contains(classification.NeedsStrong);
            trace?.Conditions.Add(new ConditionTrace("needs_strong", strong.ToString(), classification?.NeedsStrong.ToString("0.###", inv) ?? "not classified", ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.Teams is { } teams)
        {
            var ok = teams.Contains(facts.Team);
            trace?.Conditions.Add(new ConditionTrace("team", string.Join("|", teams), facts.Team, ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.Keys is { } keys)
        {
            var ok = keys.Contains(facts.KeyId);
            trace?.Conditions.Add(new ConditionTrace("key", string.Join("|", keys), facts.KeyId, ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.Models is { } models)
        {
            var ok = models.Contains(request.Model);
            trace?.Conditions.Add(new ConditionTrace("model", string.Join("|", models), request.Model, ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.PromptTokens is { } tokens)
        {
            var ok = tokens.Contains(promptTokens);
            trace?.Conditions.Add(new ConditionTrace("prompt_tokens", tokens.ToString(), promptTokens.ToString(inv), ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.Tools is { } tools)
        {
            var ok = request.HasTools == tools;
            trace?.Conditions.Add(new ConditionTrace("tools", Bool(tools), Bool(request.HasTools), ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.Stream is { } stream)
        {
            var ok = request.Stream == stream;
            trace?.Conditions.Add(new ConditionTrace("stream", Bool(stream), Bool(request.Stream), ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (rule.RetrievalRelevance is { } relevance)
        {
            var ok = facts.RetrievalRelevance is { } r && relevance.Contains(r);
            trace?.Conditions.Add(new ConditionTrace("retrieval_relevance", relevance.ToString(),
                facts.RetrievalRelevance?.ToString("0.###", inv) ?? "not measured", ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        for (var h = 0; h < rule.Headers.Count; h++) // indexed: foreach over the interface allocates an enumerator
        {
            var (header, values) = rule.Headers[h];
            var sent = facts.Headers is { } headers && headers.TryGetValue(header, out var value) ? value.ToString() : null;
            var ok = sent is not null && values.Contains(sent);
            trace?.Conditions.Add(new ConditionTrace($"headers.{header}", string.Join("|", values), sent ?? "absent", ok));
            if (!(matched &= ok) && trace is null)
            {
                return false;
            }
        }

        if (trace is not null)
        {
            trace.Matched = matched;
        }

        return matched;
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Describe(PolicyRule rule, bool pinned)
    {
        var parts = new List<string>();
        if (pinned)
        {
            parts.Add($"pins '{rule.Route}'");
        }

        if (rule.Exclude.Count > 0)
        {
            parts.Add($"excludes {string.Join(", ", rule.Exclude)}");
        }

        if (rule.QualityFloor is { } floor)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"sets quality_floor {floor}"));
        }

        if (rule.CostCapUsd is { } cap)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"sets cost_cap_usd {cap}"));
        }

        return string.Join("; ", parts);
    }
}
