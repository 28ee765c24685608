// Task (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function TaskPage() {
  return <ComingSoon title="Task" />;
}
