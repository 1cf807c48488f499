// The fpstate arena's chunking is checked directly at a million slots (a small slot size keeps that cheap).
[assembly: InternalsVisibleTo("XsaveLab.Sim.Tests")]
