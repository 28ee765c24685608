// Tasks (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function TasksList() {
  return <ComingSoon title="Tasks" />;
}
