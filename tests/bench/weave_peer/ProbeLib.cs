// ProbeLib.cs: the probe assembly bench_weave.sh weaves calls to ([ProbeLib]1.0.0.0
// Ns.Probes::Enter(string)); built with mcs, it runs under mono and dotnet beside a
// woven fixture and prints each method entered.
[assembly: System.Reflection.AssemblyVersion("1.0.0.0")]
namespace Ns {
    public static class Probes {
        public static void Enter(string name) { System.Console.WriteLine("enter " + name); }
    }
}
