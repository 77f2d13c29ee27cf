// A service-catalog form's fields, filled in by a customer and previewed by an admin.
export { type Answers, RequestFields, toSubmission } from './RequestForm';
