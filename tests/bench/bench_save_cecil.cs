// bench_save_cecil.cs: the peer of bench_save.sh. Mono.Cecil reads an assembly, inserts
// `call PROBE` (a static void() method of the assembly itself) before the first
// instruction of every method with a body, and writes the assembly: what
// `ilgraft run --save` with the plugin's probe-entry rule does through the host.
// Usage: mono bench_save_cecil.exe INPUT OUTPUT Namespace.Type::Method
using System;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;
static class CecilWeave {
    static MethodDefinition probe;
    static long woven;
    static void Visit(TypeDefinition t) {
        foreach (var m in t.Methods) {
            if (!m.HasBody) continue;
            var il = m.Body.GetILProcessor();
            il.InsertBefore(m.Body.Instructions[0], il.Create(OpCodes.Call, probe));
            woven++;
        }
        foreach (var n in t.NestedTypes) Visit(n);
    }
    static void Main(string[] args) {
        var module = ModuleDefinition.ReadModule(args[0]);
        int sep = args[2].LastIndexOf("::");
        var type = module.GetType(args[2].Substring(0, sep));
        probe = type.Methods.First(m => m.Name == args[2].Substring(sep + 2) && m.IsStatic &&
                                        !m.HasParameters);
        foreach (var t in module.Types) Visit(t);
        module.Write(args[1]);
        Console.WriteLine("woven {0}", woven);
    }
}
