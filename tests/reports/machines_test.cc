// `doge report machines`: the cross-machine table from two checked-in doge bench e2e files
// against hand-written expected markdown, plus input errors.
#include <gtest/gtest.h>

#include "engine/base/error.h"
#include "reports/src/machines.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

using testing::ReportsData;
using testing::Slurp;

TEST(MachinesTest, MarkdownMatchesHandWrittenExpectation) {
  MachinesReport r = BuildMachinesReport(
      {ReportsData() + "/card/bench-e2e.json", ReportsData() + "/machines/laptop.json"});
  ASSERT_EQ(r.lines.size(), 5u);
  EXPECT_NEAR(r.lines[3].cells[1]->relative, 230.19 / 153.46, 1e-12);
  EXPECT_EQ(testing::Relativize(RenderMachinesMarkdown(r)),
            Slurp(ReportsData() + "/machines/expected-machines.md"));
  auto cli = testing::RunDoge("report machines " + ReportsData() + "/card/bench-e2e.json " +
                              ReportsData() + "/machines/laptop.json");
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(testing::Relativize(cli.out), Slurp(ReportsData() + "/machines/expected-machines.md"));
}

TEST(MachinesTest, JsonHasSchemaAndRelativeSpeeds) {
  auto cli = testing::RunDoge("report machines " + ReportsData() + "/card/bench-e2e.json " +
                              ReportsData() + "/machines/laptop.json --format json");
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("\"schema\": \"doge.report.machines/1\""), std::string::npos);
  EXPECT_NE(cli.out.find("\"relative_to_first\": 2"), std::string::npos) << cli.out;
}

// `mpirun doge bench e2e` writes one file with every rank's rows, each carrying "rank": one
// machine per rank, the same table as one file per machine.
TEST(MachinesTest, OneFileFromMpiRanksGivesOneMachinePerRank) {
  testing::TempDir dir;
  auto with_rank = [](const std::string& text, int rank) {
    return testing::ReplaceAll(text, "\"schema\": \"doge.bench.e2e/1\",",
                               "\"schema\": \"doge.bench.e2e/1\", \"rank\": " + std::to_string(rank) + ",");
  };
  const std::string a = with_rank(Slurp(ReportsData() + "/card/bench-e2e.json"), 0);
  const std::string b = with_rank(Slurp(ReportsData() + "/machines/laptop.json"), 1);
  ASSERT_NE(a.find("\"rank\": 0"), std::string::npos);
  // Join the two arrays: drop a's closing bracket and b's opening one.
  testing::Spit(dir.File("ranks.json"), a.substr(0, a.rfind(']')) + "," + b.substr(b.find('[') + 1));
  MachinesReport one = BuildMachinesReport({dir.File("ranks.json")});
  MachinesReport two = BuildMachinesReport(
      {ReportsData() + "/card/bench-e2e.json", ReportsData() + "/machines/laptop.json"});
  ASSERT_EQ(one.machines.size(), 2u);
  EXPECT_EQ(one.machines[1].file, dir.File("ranks.json") + " (rank 1)");
  ASSERT_EQ(one.lines.size(), two.lines.size());
  for (size_t i = 0; i < one.lines.size(); ++i) {
    ASSERT_EQ(one.lines[i].cells.size(), 2u);
    for (size_t m = 0; m < 2; ++m) {
      ASSERT_EQ(one.lines[i].cells[m].has_value(), two.lines[i].cells[m].has_value()) << i << " " << m;
      if (!one.lines[i].cells[m]) continue;
      EXPECT_EQ(one.lines[i].cells[m]->avg_ts, two.lines[i].cells[m]->avg_ts);
      EXPECT_EQ(one.lines[i].cells[m]->relative, two.lines[i].cells[m]->relative);
    }
  }
}

TEST(MachinesTest, BadInputsAreErrors) {
  auto cli = testing::RunDoge("report machines " + ReportsData() + "/card/doge-20m.json");
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("expected a JSON array of doge bench rows (doge.bench.e2e/1)"),
            std::string::npos)
      << cli.err;
  testing::TempDir dir;
  std::string text = Slurp(ReportsData() + "/machines/laptop.json");
  testing::Spit(dir.File("v9.json"),
                testing::ReplaceAll(text, "doge.bench.e2e/1", "doge.bench.e2e/9"));
  cli = testing::RunDoge("report machines " + dir.File("v9.json"));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("[0].schema: unsupported schema version 'doge.bench.e2e/9'"),
            std::string::npos)
      << cli.err;
  cli = testing::RunDoge("report machines");
  EXPECT_EQ(cli.exit_code, 2);
}

}  // namespace
}  // namespace doge::reports
