/* probes_expect.h: what fixtures/cs/Calc prints under rules/probes_xasm_cs.json, both
 * saved by the host (test_plugin_probes.c) and rewritten in a real CoreCLR
 * (tests/runtime/test_plugin_coreclr.c): each Graft.Calc method's entry probe
 * [ProbeLib]Ns.Probes::Enter(string, int32) prints its name and MethodDef token, its
 * exit probe Exit(string, object) its return value, before the program's own line. The
 * values follow from C#: Add(2, 3) 5, Sub(10, i) 10 9 8, Sum(4) 10, Square(7) 49,
 * Risky (void: null) twice, the second leaving through the finally with its exception,
 * Answer 41; the program's own probe counters stay 0 (its in-module probes are not
 * called). */
#ifndef ILG_TEST_PROBES_EXPECT_H
#define ILG_TEST_PROBES_EXPECT_H

static const char calc_probed[] = "enter Graft.Calc::Add 0x06000003\n"
                                  "exit Graft.Calc::Add = 5\n"
                                  "add 2 3 = 5\n"
                                  "enter Graft.Calc::Sub 0x06000004\n"
                                  "exit Graft.Calc::Sub = 10\n"
                                  "enter Graft.Calc::Sub 0x06000004\n"
                                  "exit Graft.Calc::Sub = 9\n"
                                  "enter Graft.Calc::Sub 0x06000004\n"
                                  "exit Graft.Calc::Sub = 8\n"
                                  "sub total = 27\n"
                                  "entries after sub = 0\n"
                                  "enter Graft.Calc::Sum 0x06000005\n"
                                  "exit Graft.Calc::Sum = 10\n"
                                  "sum 4 = 10\n"
                                  "exits after sum = 0\n"
                                  "enter Graft.Calc::Square 0x06000006\n"
                                  "exit Graft.Calc::Square = 49\n"
                                  "square 7 = 49\n"
                                  "exits after square = 0\n"
                                  "enter Graft.Calc::Risky 0x06000007\n"
                                  "exit Graft.Calc::Risky = null\n"
                                  "enter Graft.Calc::Risky 0x06000007\n"
                                  "exit Graft.Calc::Risky = null\n"
                                  "caught risky\n"
                                  "exits after risky = 0\n"
                                  "enter Graft.Calc::Answer 0x06000008\n"
                                  "exit Graft.Calc::Answer = 41\n"
                                  "answer = 41\n";

#endif
