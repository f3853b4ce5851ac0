// Program.cs: what an independent reader sees in an image, one line per request, for
// test_emit to compare with what prof_emit logged it defined ("emit-def:" lines). The
// same lines from Mono.Cecil or dnlib, each reading the image with its own code:
//   assemblyref TOK name=N version=V token=HEX   typeref TOK scope=TOK name=NS.N
//   memberref TOK parent=TOK name=N sig=HEX       userstring TOK text="..."
//   standalonesig TOK sig=HEX                     typedef TOK name=NS.N flags=0xF extends=TOK
//   method TOK owner=TOK name=N flags=0xF sig=HEX body TOK ins; ins; ...
//   rva TOK 0xRVA                                 section TOK NAME (the section holding its RVA)
// Signatures are re-encoded from the library's decoded form (calling convention, count,
// element types; "?" for any type that is not a primitive), instructions printed with the
// library's opcode names and operands (a member as its token, a string quoted). A request
// the library has no public API for prints "KIND TOK unsupported" (Cecil: user strings,
// stand-alone signatures, sections).
// Usage: dotnet MdRead.dll cecil|dnlib IMAGE KIND:TOKEN...
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

static class MdRead {
    static string Hex(IEnumerable<byte> b) => b == null ? "" : string.Concat(b.Select(x => x.ToString("x2")));
    static string Tok(uint t) => "0x" + t.ToString("x8");

    static string Quote(string s) {
        var sb = new StringBuilder("\"");
        foreach (char ch in s) {
            if (ch == '\\' || ch == '"') sb.Append('\\').Append(ch);
            else if (ch == '\n') sb.Append("\\n");
            else sb.Append(ch);
        }
        return sb.Append('"').ToString();
    }

    static string Operand(object op) {
        switch (op) {
            case null: return null;
            case string s: return Quote(s);
            case Mono.Cecil.IMetadataTokenProvider c: return Tok(c.MetadataToken.ToUInt32());
            case dnlib.DotNet.IMDTokenProvider d: return Tok(d.MDToken.Raw);
            case IFormattable f: return f.ToString(null, CultureInfo.InvariantCulture);
            default: return "?" + op.GetType().Name;
        }
    }

    static string Body(IEnumerable<(string name, object operand)> ins) =>
        string.Join("; ", ins.Select(i => Operand(i.operand) is string o ? i.name + " " + o : i.name));

    // ---- Mono.Cecil ------------------------------------------------------------------
    static bool CecilPrimitive(Mono.Cecil.TypeReference t) {
        var m = (int)t.MetadataType;
        return m <= 0x0e || m == 0x16 || m == 0x18 || m == 0x19 || m == 0x1c;
    }

    static string CecilSig(Mono.Cecil.MethodReference m) {
        if (m.HasGenericParameters || !CecilPrimitive(m.ReturnType) ||
            m.Parameters.Any(p => !CecilPrimitive(p.ParameterType)))
            return "?";
        var b = new List<byte> { (byte)((byte)m.CallingConvention | (m.HasThis ? 0x20 : 0) |
                                        (m.ExplicitThis ? 0x40 : 0)),
                                 (byte)m.Parameters.Count, (byte)m.ReturnType.MetadataType };
        b.AddRange(m.Parameters.Select(p => (byte)p.ParameterType.MetadataType));
        return Hex(b);
    }

    static string Cecil(Mono.Cecil.ModuleDefinition mod, string kind, uint tok) {
        switch (kind) {
            case "assemblyref": {
                var a = mod.AssemblyReferences.First(x => x.MetadataToken.ToUInt32() == tok);
                return string.Format("name={0} version={1} token={2}", a.Name, a.Version, Hex(a.PublicKeyToken));
            }
            case "typeref": {
                var t = mod.GetTypeReferences().First(x => x.MetadataToken.ToUInt32() == tok);
                return string.Format("scope={0} name={1}", Tok(t.Scope.MetadataToken.ToUInt32()), t.FullName);
            }
            case "memberref": {
                var r = mod.GetMemberReferences().First(x => x.MetadataToken.ToUInt32() == tok);
                return string.Format("parent={0} name={1} sig={2}", Tok(r.DeclaringType.MetadataToken.ToUInt32()),
                                     r.Name, r is Mono.Cecil.MethodReference m ? CecilSig(m) : "?");
            }
            case "typedef": {
                var t = mod.GetTypes().First(x => x.MetadataToken.ToUInt32() == tok);
                return string.Format("name={0} flags=0x{1:x} extends={2}", t.FullName, (uint)t.Attributes,
                                     Tok(t.BaseType == null ? 0 : t.BaseType.MetadataToken.ToUInt32()));
            }
        }
        if (kind != "method" && kind != "body" && kind != "rva")
            return "unsupported";
        var md = mod.GetTypes().SelectMany(t => t.Methods).First(x => x.MetadataToken.ToUInt32() == tok);
        switch (kind) {
            case "method":
                return string.Format("owner={0} name={1} flags=0x{2:x} sig={3}",
                                     Tok(md.DeclaringType.MetadataToken.ToUInt32()), md.Name,
                                     (ushort)md.Attributes, CecilSig(md));
            case "body":
                return Body(md.Body.Instructions.Select(i => (i.OpCode.Name, i.Operand)));
            case "rva":
                return "0x" + md.RVA.ToString("x8");
        }
        return "unsupported";
    }

    // ---- dnlib -----------------------------------------------------------------------
    static string DnlibSig(dnlib.DotNet.CallingConventionSig sig) {
        IList<dnlib.DotNet.TypeSig> types;
        dnlib.DotNet.TypeSig ret = null;
        if (sig is dnlib.DotNet.MethodSig ms) { types = ms.Params; ret = ms.RetType; }
        else if (sig is dnlib.DotNet.LocalSig ls) types = ls.Locals;
        else return "?";
        var all = ret == null ? types : new[] { ret }.Concat(types).ToList();
        if (sig.Generic || all.Any(t => !(t is dnlib.DotNet.CorLibTypeSig) ||
                                        t.ElementType == dnlib.DotNet.ElementType.Class ||
                                        t.ElementType == dnlib.DotNet.ElementType.ValueType))
            return "?";
        var b = new List<byte> { (byte)sig.GetCallingConvention(), (byte)types.Count };
        b.AddRange(all.Select(t => (byte)t.ElementType));
        return Hex(b);
    }

    static string Dnlib(dnlib.DotNet.ModuleDefMD mod, string kind, uint tok) {
        uint rid = tok & 0xffffff;
        switch (kind) {
            case "assemblyref": {
                var a = mod.ResolveAssemblyRef(rid);
                return string.Format("name={0} version={1} token={2}", a.Name, a.Version,
                                     Hex(a.PublicKeyOrToken == null ? null : a.PublicKeyOrToken.Data));
            }
            case "typeref": {
                var t = mod.ResolveTypeRef(rid);
                return string.Format("scope={0} name={1}", Tok(t.ResolutionScope.MDToken.Raw), t.FullName);
            }
            case "memberref": {
                var r = mod.ResolveMemberRef(rid);
                return string.Format("parent={0} name={1} sig={2}", Tok(r.Class.MDToken.Raw), r.Name,
                                     DnlibSig(r.Signature));
            }
            case "userstring":
                return "text=" + Quote(mod.ReadUserString(tok));
            case "standalonesig":
                return "sig=" + DnlibSig(mod.ResolveStandAloneSig(rid).Signature);
            case "typedef": {
                var t = mod.ResolveTypeDef(rid);
                return string.Format("name={0} flags=0x{1:x} extends={2}", t.FullName, (uint)t.Attributes,
                                     Tok(t.BaseType == null ? 0 : t.BaseType.MDToken.Raw));
            }
        }
        var md = mod.ResolveMethod(rid);
        switch (kind) {
            case "method":
                return string.Format("owner={0} name={1} flags=0x{2:x} sig={3}", Tok(md.DeclaringType.MDToken.Raw),
                                     md.Name, (ushort)md.Attributes, DnlibSig(md.Signature));
            case "body":
                return Body(md.Body.Instructions.Select(i => (i.OpCode.Name, i.Operand)));
            case "rva":
                return "0x" + ((uint)md.RVA).ToString("x8");
            case "section": {
                var rva = (uint)md.RVA;
                var s = mod.Metadata.PEImage.ImageSectionHeaders.FirstOrDefault(
                    h => rva >= (uint)h.VirtualAddress && rva < (uint)h.VirtualAddress + Math.Max(h.VirtualSize, h.SizeOfRawData));
                return s == null ? "none" : s.DisplayName;
            }
        }
        return "unsupported";
    }

    static int Main(string[] args) {
        if (args.Length < 2 || (args[0] != "cecil" && args[0] != "dnlib")) {
            Console.Error.WriteLine("usage: MdRead cecil|dnlib IMAGE KIND:TOKEN...");
            return 2;
        }
        Mono.Cecil.ModuleDefinition cecil = null;
        dnlib.DotNet.ModuleDefMD dn = null;
        if (args[0] == "cecil") cecil = Mono.Cecil.ModuleDefinition.ReadModule(args[1]);
        else dn = dnlib.DotNet.ModuleDefMD.Load(args[1]);
        foreach (var req in args.Skip(2)) {
            int colon = req.IndexOf(':');
            string kind = req.Substring(0, colon);
            uint tok = Convert.ToUInt32(req.Substring(colon + 1), 16);
            string what = cecil != null ? Cecil(cecil, kind, tok) : Dnlib(dn, kind, tok);
            Console.WriteLine("{0} {1} {2}", kind, Tok(tok), what);
        }
        return 0;
    }
}
