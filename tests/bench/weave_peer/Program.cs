// Program.cs: the peers of tests/bench/bench_weave.sh. Reads an assembly with Mono.Cecil
// or dnlib, adds (once) an AssemblyRef [ProbeLib]1.0.0.0, a TypeRef Ns.Probes and a
// MemberRef `void Enter(string)`, inserts `ldstr "<Type>::<Method>"; call Enter` before
// the first instruction of every method with a body (branches to that instruction and
// EH blocks starting there stay on it, as ilg_body_insert_entry does), and writes the
// assembly with the library's default options. <Type> is the declaring type's full name
// with nested types as Outer/Inner, as Cecil's and dnlib's FullName and ilgraft's
// ilg_md_type_name write it.
// Usage: dotnet WeavePeer.dll cecil|dnlib INPUT OUTPUT
using System;
using System.Linq;

static class WeavePeer {
    static long woven;

    static void Cecil(string input, string output) {
        var module = Mono.Cecil.ModuleDefinition.ReadModule(input);
        var asmRef = new Mono.Cecil.AssemblyNameReference("ProbeLib", new Version(1, 0, 0, 0));
        module.AssemblyReferences.Add(asmRef);
        var type = new Mono.Cecil.TypeReference("Ns", "Probes", module, asmRef);
        var enter = new Mono.Cecil.MethodReference("Enter", module.TypeSystem.Void, type);
        enter.Parameters.Add(new Mono.Cecil.ParameterDefinition(module.TypeSystem.String));
        foreach (var t in module.GetTypes()) {
            foreach (var m in t.Methods) {
                if (!m.HasBody) continue;
                var il = m.Body.GetILProcessor();
                var first = m.Body.Instructions[0];
                il.InsertBefore(first, il.Create(Mono.Cecil.Cil.OpCodes.Ldstr, t.FullName + "::" + m.Name));
                il.InsertBefore(first, il.Create(Mono.Cecil.Cil.OpCodes.Call, enter));
                woven++;
            }
        }
        module.Write(output);
    }

    static void Dnlib(string input, string output) {
        var module = dnlib.DotNet.ModuleDefMD.Load(input);
        var asmRef = new dnlib.DotNet.AssemblyRefUser("ProbeLib", new Version(1, 0, 0, 0));
        var type = new dnlib.DotNet.TypeRefUser(module, "Ns", "Probes", asmRef);
        var sig = dnlib.DotNet.MethodSig.CreateStatic(module.CorLibTypes.Void, module.CorLibTypes.String);
        var enter = new dnlib.DotNet.MemberRefUser(module, "Enter", sig, type);
        foreach (var t in module.GetTypes()) {
            foreach (var m in t.Methods) {
                if (!m.HasBody) continue;
                var list = m.Body.Instructions;
                list.Insert(0, dnlib.DotNet.Emit.Instruction.Create(dnlib.DotNet.Emit.OpCodes.Call, enter));
                list.Insert(0, dnlib.DotNet.Emit.Instruction.Create(dnlib.DotNet.Emit.OpCodes.Ldstr,
                                                                    t.FullName + "::" + m.Name));
                woven++;
            }
        }
        // dnlib's max-stack calculator gives up on some of Mono's bodies (it follows no
        // branch it cannot resolve); its writer then logs an error and, unless the logger
        // throws (the default one does), writes maxstack 8. Counted and reported.
        var opts = new dnlib.DotNet.Writer.ModuleWriterOptions(module) { Logger = new Counting() };
        module.Write(output, opts);
        if (Counting.errors > 0)
            Console.WriteLine("dnlib: {0} writer errors (maxstack 8 written): {1}", Counting.errors,
                              Counting.first);
    }

    sealed class Counting : dnlib.DotNet.ILogger {
        public static int errors;
        public static string first;
        public void Log(object sender, dnlib.DotNet.LoggerEvent e, string format, params object[] args) {
            if (e != dnlib.DotNet.LoggerEvent.Error) return;
            if (errors++ == 0) first = string.Format(format, args);
        }
        public bool IgnoresEvent(dnlib.DotNet.LoggerEvent e) => e != dnlib.DotNet.LoggerEvent.Error;
    }

    static int Main(string[] args) {
        if (args.Length != 3 || (args[0] != "cecil" && args[0] != "dnlib")) {
            Console.Error.WriteLine("usage: WeavePeer cecil|dnlib INPUT OUTPUT");
            return 2;
        }
        if (args[0] == "cecil") Cecil(args[1], args[2]); else Dnlib(args[1], args[2]);
        Console.WriteLine("{0}: woven {1} methods", args[0], woven);
        return 0;
    }
}
