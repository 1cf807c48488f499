namespace XsaveLab.Cli.Cli;

/// <summary>Options that take one of a fixed set of words (<c>--format text|json</c>, <c>--only</c>, <c>--kind</c> …).
/// The parser's own check names only the value ("Argument 'yaml' not recognized"); this one names the option too, in
/// the words of every other bad-input message, shows the choices as the option's metavariable and offers them as completions.</summary>
public static class ChoiceOption
{
    /// <summary>Accepts only <paramref name="choices"/> (exact, as printed in help) for every token given to
    /// <paramref name="option"/>; the metavariable becomes <c>a|b|c</c> unless one was set.</summary>
    public static T OneOf<T>(this T option, params IReadOnlyList<string> choices) where T : Option
    {
        option.HelpName ??= string.Join('|', choices);
        option.CompletionSources.Add([.. choices]);
        option.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
            {
                if (!choices.Contains(token.Value, StringComparer.Ordinal))
                {
                    r.AddError($"{option.Name}: '{SafeText.Excerpt(token.Value)}' is not one of {string.Join(", ", choices)}");
                    return;
                }
            }
        });
        return option;
    }
}
