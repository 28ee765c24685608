// Overview (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function ProjectOverview() {
  return <ComingSoon title="Overview" />;
}
