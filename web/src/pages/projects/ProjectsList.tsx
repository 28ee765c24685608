// Projects (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function ProjectsList() {
  return <ComingSoon title="Projects" />;
}
